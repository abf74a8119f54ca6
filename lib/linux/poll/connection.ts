// The shared core of the poll-driven path: one connected (or connecting)
// descriptor, the uv_poll watcher that owns it, the read/write interest set,
// the non-blocking connect, and the vsock addresses. PollSocket (a stream)
// and SeqpacketSocket (messages) each hold one; policy stays in them.
import { encodeEndpoint, type Endpoint } from '../../address/index';
import { nameOrNone, readName } from '../../address/names';
import { UV_EINPROGRESS } from '../../errno';
import { binding, optionValue, POLL_READABLE, POLL_WRITABLE, VsockOption, type NativePoller } from '../../binding';

export interface ConnectionEvents {
  readable(): void;
  writable(): void;
  /**
   * The watcher reported an error (POLLERR): the socket's own error, from
   * SO_ERROR where it has one; or (syscall 'poll') the watcher failed to start.
   */
  failed(status: number, syscall?: string): void;
}

export class PollConnection {
  readonly fd: number;
  peer: Endpoint | undefined;
  private local: Endpoint | undefined;
  private poller: NativePoller | null;
  private interest = 0;
  private connectDone: ((status: number) => void) | null = null;
  connecting = false;

  /**
   * Takes ownership of `fd` (it is closed by close(), or by the watcher at
   * environment teardown). Throws the watcher's creation error after
   * closing the fd.
   */
  constructor(
    fd: number,
    private readonly events: ConnectionEvents,
  ) {
    this.fd = fd;
    const native = binding();
    try {
      this.poller = new native.Poller(fd, (status, bits) => this.onPoll(status, bits), true);
    } catch (error) {
      native.close(fd);
      throw error;
    }
  }

  get closed(): boolean {
    return this.poller === null;
  }

  private onPoll(status: number, bits: number): void {
    if (this.connectDone) {
      // Writable (or an error) ends a pending connect; SO_ERROR says how.
      const done = this.connectDone;
      this.connectDone = null;
      this.want(POLL_WRITABLE, false);
      done(binding().takeError(this.fd));
      return;
    }
    if (status < 0) {
      // libuv reports POLLERR as EBADF; the socket's pending error is the real one.
      const pending = binding().takeError(this.fd);
      this.events.failed(pending < 0 ? pending : status);
      return;
    }
    if (bits & POLL_READABLE && this.interest & POLL_READABLE) this.events.readable();
    if (this.poller !== null && bits & POLL_WRITABLE && this.interest & POLL_WRITABLE) this.events.writable();
  }

  /** Adds or removes interest bits; the watcher runs only while some are set. */
  want(bits: number, on: boolean): void {
    const next = on ? this.interest | bits : this.interest & ~bits;
    if (next === this.interest || this.poller === null) return;
    this.interest = next;
    const status = this.poller.start(next); // 0 stops the watcher
    // A watcher that did not start never fires: the socket would hang
    // silently. Reported on the next tick (callers are mid-read/-write).
    if (status < 0) {
      const poller = this.poller;
      process.nextTick(() => {
        if (this.poller === poller) this.events.failed(status, 'poll');
      });
    }
  }

  /**
   * Starts a non-blocking connect; `done(status)` runs exactly once, never
   * synchronously (0 connected, else a negative status), unless close()
   * comes first.
   */
  connect(endpoint: Endpoint, done: (status: number) => void): void {
    this.connecting = true;
    this.peer = endpoint;
    const finish = (status: number): void => {
      if (this.poller === null) return;
      this.connecting = false;
      done(status);
    };
    const status = binding().connect(this.fd, encodeEndpoint(endpoint));
    if (status !== UV_EINPROGRESS) {
      process.nextTick(finish, status);
      return;
    }
    this.connectDone = finish;
    this.want(POLL_WRITABLE, true);
  }

  /** This end's address as the kernel reports it, read once connected. */
  localEndpoint(): Endpoint | undefined {
    if (this.local === undefined && !this.connecting && this.poller !== null) this.local = nameOrNone(readName(this.fd, false));
    return this.local;
  }

  /** Fills peer and local from the kernel (accepted sockets). */
  learnNames(): void {
    this.peer = nameOrNone(readName(this.fd, true));
    this.local = nameOrNone(readName(this.fd, false));
  }

  /** A SOL_VSOCK value (buffer size, connect timeout) while open. */
  readOption(read: (fd: number) => number | bigint): number | bigint | undefined {
    return this.poller === null ? undefined : optionValue(read(this.fd));
  }

  bufferSize(): number | bigint | undefined {
    return this.readOption((fd) => binding().getOption(fd, VsockOption.BUFFER_SIZE));
  }

  ref(): void {
    this.poller?.ref();
  }

  unref(): void {
    this.poller?.unref();
  }

  /** Stops the watcher and closes the fd (the poll first, as libuv needs). Idempotent. */
  close(): void {
    const poller = this.poller;
    this.poller = null;
    this.connectDone = null;
    this.interest = 0;
    poller?.close();
  }
}

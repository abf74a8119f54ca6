// The poll path's server: a listening vsock fd watched by uv_poll; each
// readiness event accepts one connection (accept4, non-blocking) and hands
// the new fd to a factory (PollSocket for streams, SeqpacketSocket for
// messages). Mirrors net.Server's surface and close() semantics: stops
// accepting at once, 'close' once the last connection has closed. Accept
// failures (EMFILE, ...) are bounded: lib/linux/poll/accept-overload.ts.
import { EventEmitter } from 'node:events';
import { debuglog } from 'node:util';
import { UV_ECONNABORTED } from '../../errno';
import { backoffDelay, holdReserve, isDescriptorShortage, releaseReserve, shedQueued } from './accept-overload';
import { addressBuffer, describeEndpoint, errorAddress, type Endpoint, type VsockAddressInfo } from '../../address/index';
import { binding, POLL_READABLE, SOCKET_STREAM, type NativePoller } from '../../binding';
import { alreadyListening, HvsockError, invalidArgType, systemError } from '../../errors';
import { isFdListenOptions, type FdListenOptions } from '../fd';
import { UV_EAGAIN } from '../../errno';
import { openBoundSocket } from '../listen';
import { pickListenArguments, pickSocketSettings, type ListenOptions } from '../../options';
import { definedOnly, type SocketSettings } from '../../settings';

const debug = debuglog('hvsock');

/** What a poll server needs of the connections it makes. */
export interface AcceptedConnection extends EventEmitter {
  /** Closes the connection at once (the server calls it on close() and past maxConnections). */
  destroy(error?: Error): unknown;
}

export interface PollServerOptions extends SocketSettings {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
}

/** Makes the connection object for an accepted fd (takes ownership of it). */
export type ConnectionFactory<S> = (fd: number, options: PollServerOptions) => S;

/**
 * The poll I/O path's server (`io: 'poll'`, or where Node's handles cannot be
 * adopted): an EventEmitter with net.Server's methods, events and getters
 * (listen, close, address, getConnections, maxConnections, ref/unref), driven
 * by a uv_poll watcher on the listening descriptor. createServer() makes it.
 */
export class PollServer<S extends AcceptedConnection> extends EventEmitter {
  /** As net.Server#maxConnections: connections past it are closed at once. */
  maxConnections: number | undefined;
  private poller: NativePoller | null = null; // owns the listening fd
  private fd = -1;
  private local: Endpoint | undefined;
  private readonly connections = new Set<S>();
  private readonly settings: SocketSettings;
  private refed = true;
  private closing = false;
  /** Set while accepting is paused after a failed accept (lib/linux/poll/accept-overload.ts). */
  private retryTimer: NodeJS.Timeout | null = null;
  /** Consecutive failed accepts; 0 once a connection is accepted again. */
  private failures = 0;

  /** @internal createServer() makes PollServers. */
  constructor(
    private readonly makeConnection: ConnectionFactory<S>,
    private readonly options: PollServerOptions = {},
    connectionListener?: (connection: S) => void,
    private readonly socketType = SOCKET_STREAM,
  ) {
    super();
    if (connectionListener !== undefined) {
      if (typeof connectionListener !== 'function') throw invalidArgType('connectionListener', 'of type function', connectionListener);
      this.on('connection', connectionListener);
    }
    this.settings = pickSocketSettings(options);
  }

  /** True while listening, as net.Server#listening. */
  get listening(): boolean {
    return this.poller !== null;
  }

  /** As VsockServer#listen(): options, a port number or a URI; errors as 'error'. */
  listen(options: ListenOptions | FdListenOptions | number | string = {}, listeningListener?: () => void): this {
    // Descriptor adoption (lib/linux/fd.ts) is built on the handle path.
    if (isFdListenOptions(options)) {
      throw new HvsockError(
        'ERR_HVSOCK_UNSUPPORTED_PLATFORM',
        "listen({ fd }) needs the 'handle' I/O path: createServer({ io: 'handle' })",
      );
    }
    const { endpoint, backlog, settings } = pickListenArguments(options, listeningListener);
    if (this.poller !== null) throw alreadyListening();
    if (listeningListener) this.once('listening', listeningListener);
    const bound = openBoundSocket(endpoint, { ...this.settings, ...definedOnly(settings) }, this.socketType);
    if ('error' in bound) {
      process.nextTick(() => this.emit('error', bound.error));
      return this;
    }
    const native = binding();
    const status = native.listen(bound.fd, backlog);
    let poller: NativePoller | undefined;
    try {
      if (status === 0) poller = new native.Poller(bound.fd, () => this.acceptOne(), true);
    } catch (error) {
      native.close(bound.fd);
      process.nextTick(() => this.emit('error', error));
      return this;
    }
    if (!poller) {
      native.close(bound.fd);
      process.nextTick(() => this.emit('error', systemError(status, 'listen', errorAddress(endpoint))));
      return this;
    }
    // A watcher that does not start would leave a server that says
    // 'listening' and never accepts: report it as listen's error instead.
    const started = poller.start(POLL_READABLE);
    if (started < 0) {
      poller.close(); // closes the fd too
      process.nextTick(() => this.emit('error', systemError(started, 'listen', errorAddress(endpoint))));
      return this;
    }
    this.poller = poller;
    this.fd = bound.fd;
    this.local = bound.local;
    this.closing = false;
    this.failures = 0;
    if (!this.refed) poller.unref();
    holdReserve();
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  // One accept per readiness event, never "until EAGAIN": vsock's accept on
  // an empty queue does not return at once even when non-blocking. It waits
  // on a zero timeout (schedule_timeout(0) in vsock_accept), which sleeps
  // until the next timer tick: up to 4 ms at HZ=250, per event, measured at
  // 1.7-2.5 ms per sequential connection in the guest. The watcher is
  // level-triggered, so connections still queued fire it again on the next
  // loop turn (libuv's own accept path does likewise here: one accept4 per
  // event in strace).
  private acceptOne(): void {
    if (this.poller === null) return;
    const native = binding();
    const peer = addressBuffer();
    const fd = native.accept(this.fd, peer);
    if (fd === UV_EAGAIN || fd === UV_ECONNABORTED) return; // the next event tries again
    if (fd < 0) {
      this.acceptFailed(fd, peer);
      return;
    }
    this.failures = 0;
    if (this.maxConnections !== undefined && this.connections.size >= this.maxConnections) {
      native.close(fd); // as net: dropped, the peer sees its end
      return;
    }
    let connection: S;
    try {
      connection = this.makeConnection(fd, this.options);
    } catch (error) {
      this.emit('error', error);
      return;
    }
    this.connections.add(connection);
    connection.once('close', () => {
      this.connections.delete(connection);
      this.emitCloseIfDrained();
    });
    this.emit('connection', connection);
  }

  // The connection stays queued and the watcher would fire again at once:
  // shed the queue on a descriptor shortage (as libuv), then pause accepting
  // for a backoff. One 'error' per run of failures (until a connection is
  // accepted again), not one per retry.
  private acceptFailed(status: number, peer: Uint8Array): void {
    if (isDescriptorShortage(status)) shedQueued(this.fd, peer);
    this.failures += 1;
    debug('accept %d: paused for %d ms (failure %d)', status, backoffDelay(this.failures), this.failures);
    this.pauseAccepting(backoffDelay(this.failures));
    if (this.failures === 1) this.emit('error', systemError(status, 'accept', this.local ? errorAddress(this.local) : undefined));
  }

  private pauseAccepting(ms: number): void {
    const poller = this.poller;
    if (poller === null || this.retryTimer !== null) return;
    poller.stop();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.poller !== poller) return; // closed meanwhile
      const started = poller.start(POLL_READABLE);
      if (started < 0) {
        this.failures += 1;
        this.pauseAccepting(backoffDelay(this.failures));
        this.emit('error', systemError(started, 'listen', this.local ? errorAddress(this.local) : undefined));
      }
    }, ms);
    if (!this.refed) this.retryTimer.unref();
  }

  /** `{ address, family: 'vsock', port, cid, vmId, serviceId }` while listening, else null. */
  address(): VsockAddressInfo | null {
    return this.poller !== null && this.local ? describeEndpoint(this.local) : null;
  }

  /** Stops accepting at once; 'close' (and `callback`) once every connection has closed. */
  close(callback?: (error?: Error) => void): this {
    if (callback !== undefined && typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
    if (callback) {
      const running = this.poller !== null;
      this.once('close', () => (running ? callback() : callback(new HvsockError('ERR_SERVER_NOT_RUNNING', 'Server is not running.'))));
    }
    if (this.poller !== null) releaseReserve();
    this.poller?.close(); // closes the listening fd too
    this.poller = null;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.closing = true;
    this.emitCloseIfDrained();
    return this;
  }

  private emitCloseIfDrained(): void {
    if (!this.closing || this.poller !== null || this.connections.size > 0) return;
    this.closing = false;
    process.nextTick(() => this.emit('close'));
  }

  /** As net.Server#getConnections: the number of open accepted connections. */
  getConnections(callback: (error: Error | null, count: number) => void): this {
    const count = this.connections.size;
    process.nextTick(() => callback(null, count));
    return this;
  }

  /** As net.Server#ref: a listening server keeps the process alive (the default). */
  ref(): this {
    this.refed = true;
    this.poller?.ref();
    this.retryTimer?.ref(); // a paused server still keeps the process alive
    return this;
  }

  /** As net.Server#unref: a listening server alone does not keep the process alive. */
  unref(): this {
    this.refed = false;
    this.poller?.unref();
    this.retryTimer?.unref();
    return this;
  }

  /** Closes the server (`await using`), as net.Server. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.poller === null) return;
    await new Promise<void>((resolve) => this.close(() => resolve()));
  }
}

// SOCK_SEQPACKET message sockets (Linux >= 5.16 vsock): connected, reliable,
// ordered, and every send() arrives as one 'message' of the same length.
// Built on the poll path (PollConnection) for receiving; not a stream,
// because a stream would merge and split messages.
//
// Sending: each message is one blocking send() on the socket's own sender
// thread (native/addon_message_sender.cc), never on libuv's threadpool and never
// on the loop thread, because a non-blocking seqpacket send on Linux 6.1
// that runs out of peer credit mid-message returns EAGAIN after part of the
// message went out, and resending merges the two at the peer (measured;
// test/probes/seqpacket-kernel.c, test/linux/poll/seqpacket.test.ts). A peer that
// never reads stalls only its own socket; destroy() (or a 'timeout'
// handler calling it) wakes the blocked send. send() copies the message
// before it returns: the caller may reuse, transfer or detach its buffer.
// send() returns false once queued bytes reach highWaterMark ('drain'
// later), like Writable#write(). A message the kernel refuses for its size
// (ENOMEM on 6.1, EMSGSIZE on later kernels: longer than the peer can
// buffer) fails alone with ERR_HVSOCK_MESSAGE_TOO_LARGE, through send()'s
// callback or else 'error' (dgram's convention); the connection stays up.
import { kMaxLength } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { errorAddress, type Endpoint } from '../../address/index';
import { binding, POLL_READABLE, SOCKET_SEQPACKET, type NativeMessageSender } from '../../binding';
import { HvsockError, invalidArgType, invalidArgValue, systemError, writeAfterEnd, type HvsockSystemError } from '../../errors';
import { UV_EAGAIN, UV_EMSGSIZE, UV_ENOMEM, UV_ENOTCONN } from '../../errno';
import { PollConnection } from './connection';
import { installEndpointGetters, kConnection, localAddressInfo, connectPollPath } from './common';
import type { VsockEndpointGetters } from '../../duplex/getters';
import { IdleTimer } from '../../duplex/idle';
import type { VsockConnectRequest } from '../../options';
import type { VsockAddressInfo } from '../../address/index';
import type { ConnectOptions } from '../../options';

/** Messages received per readiness event before yielding to the loop. */
const MESSAGES_PER_EVENT = 64;
/** Receive buffer when the kernel won't say its size (SO_VM_SOCKETS_BUFFER_SIZE default). */
const DEFAULT_RECEIVE_BUFFER = 256 * 1024;
/** Queued bytes at which send() starts returning false. */
const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

/** connect() options for a message socket. */
export interface SeqpacketConnectOptions extends ConnectOptions {
  type: 'seqpacket';
  /** Queued bytes at which send() starts returning false (default 64 KiB); createServer() takes it for accepted sockets. */
  highWaterMark?: number;
}

/** Validates connect()/createServer()'s `type` option. */
export function pickSocketType(value: unknown, name = 'options.type'): 'stream' | 'seqpacket' {
  if (value === undefined || value === 'stream') return 'stream';
  if (value === 'seqpacket') return 'seqpacket';
  throw invalidArgValue(name, value, "must be 'stream' or 'seqpacket'");
}

/** A message the kernel refused for its size (send()'s callback or 'error'). */
export interface MessageTooLargeError extends HvsockError {
  /** The message's length in bytes. */
  size: number;
  /** The kernel's status (-ENOMEM on Linux 6.1, -EMSGSIZE later). */
  errno: number;
  /** Always 'send'. */
  syscall: 'send';
}

/** The error for a received message longer than the receive buffer (its tail is lost). */
export interface MessageTruncatedError extends HvsockError {
  /** Bytes kept (the receive buffer's size); the rest of the message was dropped by the kernel. */
  received: number;
}

/** send()'s callback: null once the kernel took the message, else why not. */
export type SendCallback = (error: Error | null) => void;

/** Options of a SeqpacketSocket (connect() and createServer() with `type: 'seqpacket'` take them). */
export interface SeqpacketOptions {
  /** As net: keep receiving after this side's end(). */
  allowHalfOpen?: boolean;
  /** Queued bytes at which send() starts returning false (default 64 KiB). */
  highWaterMark?: number;
}

interface Outgoing {
  size: number;
  /** Our own copy while the message waits for the connection; null once the sender has it. */
  copy: Buffer | null;
  callback: SendCallback | undefined;
}

export interface SeqpacketSocket extends VsockEndpointGetters {
  /** A received message, whole. */
  on(event: 'message', listener: (message: Buffer) => void): this;
  /** As net.Socket: connected; send() room again; the peer ended; this side ended; idle timeout. */
  on(event: 'connect' | 'ready' | 'drain' | 'end' | 'finish' | 'timeout', listener: () => void): this;
  /** A failure; then close. */
  on(event: 'error', listener: (error: Error) => void): this;
  /** Once, at the end; `hadError` says whether an error caused it. */
  on(event: 'close', listener: (hadError: boolean) => void): this;
  /** Any other event, as EventEmitter. */
  on(event: string | symbol, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A connected SOCK_SEQPACKET vsock socket: send() messages, receive 'message' events. */
export class SeqpacketSocket extends EventEmitter {
  /** @internal */
  [kConnection]: PollConnection | null = null;
  /** True until the connect completes (or fails), as net.Socket#connecting. */
  connecting = false;
  /** True once destroy() ran, as net.Socket#destroyed. */
  destroyed = false;
  /** Payload bytes received / sent (handed to the kernel). */
  bytesRead = 0;
  /** Payload bytes handed to the kernel. */
  bytesWritten = 0;
  /** Whether the socket keeps receiving after its own end(). */
  readonly allowHalfOpen: boolean;
  /** Messages sent (or waiting for the connection) without a result yet, oldest first. */
  private readonly queue: Outgoing[] = [];
  private sender: NativeMessageSender | null = null;
  private readonly idle = new IdleTimer(this);
  private endpoint: Endpoint | undefined;
  private receiveBuffer: Buffer | null = null;
  private readonly flags = new Int32Array(1);
  private paused = false;
  private readEnded = false;
  private writeEnded = false; // end() called
  private finished = false; // shutdown(SHUT_WR) done
  private needDrain = false;
  private refed = true;
  private queuedBytes = 0;
  /** Queued bytes at which send() returns false. */
  readonly highWaterMark: number;

  constructor(options: SeqpacketOptions = {}) {
    super();
    this.allowHalfOpen = options.allowHalfOpen ?? false;
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  /** @internal Takes ownership of a connected (or connecting) fd. */
  attach(fd: number): void {
    this[kConnection] = new PollConnection(fd, {
      readable: () => this.receive(),
      writable: () => undefined, // sends run on the sender thread, not on writability
      failed: (status) => this.destroy(this.error(status, 'recvmsg')),
    });
    if (!this.refed) this[kConnection].unref();
  }

  /** @internal Starts connecting the attached fd. */
  startConnect(endpoint: Endpoint, listener?: () => void): void {
    this.endpoint = endpoint;
    this.connecting = true;
    if (listener) this.once('connect', listener);
    this[kConnection]?.connect(endpoint, (status) => {
      if (status < 0) {
        this.destroy(this.error(status, 'connect'));
        return;
      }
      this.connecting = false;
      try {
        this.opened();
      } catch (error) {
        this.destroy(error as Error);
        return;
      }
      this.emit('connect');
      this.emit('ready');
    });
  }

  /**
   * @internal Takes an accepted fd (already connected: no 'connect' event).
   * Throws if the socket cannot be set up, with the fd closed.
   */
  accepted(fd: number): void {
    try {
      this.attach(fd);
      this[kConnection]?.learnNames();
      this.endpoint = this[kConnection]?.peer;
      this.opened();
    } catch (error) {
      // Nobody has seen this socket: close it without events.
      this.destroyed = true;
      this.sender?.close();
      this[kConnection]?.close();
      throw error;
    }
  }

  // Connected: size the receive buffer, start the sender and move messages.
  // Throws when that fails (the caller destroys or discards the socket).
  private opened(): void {
    const connection = this[kConnection];
    if (!connection) return;
    const native = binding();
    // Sends block in the kernel on the sender's thread (see the file
    // comment); every call made here on the loop thread passes MSG_DONTWAIT.
    const blocking = native.setBlocking!(connection.fd, true);
    if (blocking < 0) throw this.error(blocking, 'fcntl');
    // The peer may send messages up to our receive buffer size (the kernel
    // refuses longer ones with EMSGSIZE on its side), so a buffer of that
    // size never truncates. Read once: set bufferSize before connecting.
    // A size the process cannot allocate throws here (RangeError). A u64 the
    // kernel holds past Buffer's limit: a longer message is MSG_TRUNC's typed error.
    const size = Math.min(Number(connection.bufferSize() ?? DEFAULT_RECEIVE_BUFFER), kMaxLength);
    this.receiveBuffer = Buffer.allocUnsafe(Math.max(size, 1));
    this.sender = new native.MessageSender!(connection.fd, (result) => this.sent(result));
    this.idle.touch();
    if (!this.paused) connection.want(POLL_READABLE, true);
    for (const entry of this.queue) {
      if (entry.copy === null || this.destroyed) continue;
      const copy = entry.copy;
      entry.copy = null;
      this.hand(copy);
    }
    if (this.queue.length === 0 && this.writeEnded) this.shutdownWrite();
  }

  private error(status: number, syscall: string): HvsockSystemError {
    return systemError(status, syscall, this.endpoint ? errorAddress(this.endpoint) : undefined);
  }

  /** The largest message this end can receive whole (its receive buffer), once connected. */
  get maxMessageSize(): number | undefined {
    return this.receiveBuffer?.length;
  }

  /** Messages queued by send() that the kernel has not taken yet. */
  get pendingMessages(): number {
    return this.queue.length;
  }

  /** Bytes of those messages, as writableLength. */
  get writableLength(): number {
    return this.queuedBytes;
  }

  /** True while not connected, as net.Socket#pending. */
  get pending(): boolean {
    return this[kConnection] === null || this.connecting;
  }

  /** The idle timeout in ms, if set (setTimeout()). */
  get timeout(): number | undefined {
    return this.idle.ms || undefined;
  }

  /** This end's address, as net.Socket#address(): `{ address, family, port, cid, vmId, serviceId }`, or `{}` before connecting. */
  address(): VsockAddressInfo | Record<string, never> {
    return localAddressInfo(this[kConnection]);
  }

  /**
   * Sends `data` (1 byte or more) as one message; the peer gets it whole as
   * one 'message'. Messages go out in order, one blocking kernel send at a
   * time on this socket's sender thread. The bytes are copied before send()
   * returns. Returns false once the bytes queued and not yet taken by the
   * kernel reach highWaterMark: wait for 'drain'.
   * `callback(error)` runs once the kernel has taken the message or refused
   * it (ERR_HVSOCK_MESSAGE_TOO_LARGE; without a callback that goes to
   * 'error' and the connection stays up) or the socket closed first.
   */
  send(data: Uint8Array | string, callback?: SendCallback): boolean {
    let message: Uint8Array;
    if (typeof data === 'string') message = Buffer.from(data);
    else if (data instanceof Uint8Array) message = data;
    else throw invalidArgType('data', 'of type string or an instance of Buffer or Uint8Array', data);
    if (callback !== undefined && typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
    // vsock has no empty messages: the kernel sends nothing for a 0-byte
    // SEQPACKET send (and returns 0), so the peer would never see it, and a
    // 0-byte recvmsg() always means the peer's end (test/linux/poll/seqpacket.test.ts).
    if (message.byteLength === 0) {
      throw invalidArgValue('data', '<empty>', 'must not be empty (vsock delivers no 0-byte message)');
    }
    if (this.destroyed || this.writeEnded) {
      const error = this.destroyed ? new HvsockError('ERR_SOCKET_CLOSED', 'Socket is closed') : writeAfterEnd();
      process.nextTick(() => this.report(error, callback));
      return false;
    }
    const entry: Outgoing = { size: message.byteLength, copy: null, callback };
    this.queue.push(entry);
    this.queuedBytes += entry.size;
    if (this.sender) {
      this.hand(message); // copied by the sender before this returns
    } else {
      // Waiting for the connection: our own copy (a fresh, unpooled buffer
      // nobody else holds), so a later change or detach of `data` is moot.
      entry.copy = typeof data === 'string' ? (message as Buffer) : Buffer.allocUnsafeSlow(entry.size);
      if (entry.copy !== message) entry.copy.set(message);
    }
    const below = this.queuedBytes < this.highWaterMark;
    if (!below) this.needDrain = true;
    return below;
  }

  // Per-message errors: to the callback, else 'error' (dgram's convention).
  private report(error: Error, callback: SendCallback | undefined): void {
    if (callback) callback(error);
    else this.emit('error', error);
  }

  // Gives one message to the sender thread (it copies the bytes now).
  private hand(message: Uint8Array): void {
    const status = this.sender?.send(message) ?? 0;
    if (status < 0) this.destroy(this.error(status, 'send'));
  }

  // The sender's result for the oldest message: bytes sent or -errno.
  private sent(result: number): void {
    if (this.destroyed) return; // destroy() already failed the queue
    const done = this.queue.shift() as Outgoing;
    this.queuedBytes -= done.size;
    if (result === UV_ENOMEM || result === UV_EMSGSIZE) {
      const error = new HvsockError(
        'ERR_HVSOCK_MESSAGE_TOO_LARGE',
        `send: a ${done.size}-byte message is longer than the peer can buffer (its bufferSize)`,
      ) as MessageTooLargeError;
      error.size = done.size;
      error.errno = result;
      error.syscall = 'send';
      process.nextTick(() => this.report(error, done.callback));
    } else if (result < 0) {
      const error = this.error(result, 'send');
      done.callback?.(error);
      this.destroy(error);
      return;
    } else {
      this.bytesWritten += result;
      this.idle.touch();
      done.callback?.(null);
    }
    if (this.queue.length > 0 || this.destroyed) return;
    if (this.writeEnded) this.shutdownWrite();
    if (this.needDrain) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private receive(): void {
    const connection = this[kConnection];
    const buffer = this.receiveBuffer;
    if (!connection || connection.closed || !buffer) return;
    const native = binding();
    const truncated = binding().constants.MSG_TRUNC ?? 0x20;
    for (let i = 0; i < MESSAGES_PER_EVENT && !this.paused && !this.destroyed; i++) {
      const n = native.recvmsg!(connection.fd, buffer, this.flags);
      if (n === UV_EAGAIN) return;
      if (n < 0) {
        this.destroy(this.error(n, 'recvmsg'));
        return;
      }
      if (n === 0) {
        this.onReadEnd();
        return;
      }
      if (this.flags[0] & truncated) {
        const error = new HvsockError(
          'ERR_HVSOCK_MESSAGE_TRUNCATED',
          `a received message was longer than the receive buffer (${buffer.length} bytes): its tail was dropped`,
        ) as MessageTruncatedError;
        error.received = n;
        this.destroy(error);
        return;
      }
      this.bytesRead += n;
      this.idle.touch();
      this.emit('message', Buffer.from(buffer.subarray(0, n)));
    }
    if (this.paused) connection.want(POLL_READABLE, false);
  }

  private onReadEnd(): void {
    this.readEnded = true;
    this[kConnection]?.want(POLL_READABLE, false);
    this.emit('end');
    if (!this.allowHalfOpen) this.end();
    this.closeIfDone();
  }

  /** Stops 'message' events (and reading: the kernel's queue fills, the peer's sends wait). */
  pause(): this {
    this.paused = true;
    this[kConnection]?.want(POLL_READABLE, false);
    return this;
  }

  /** Starts (again) emitting 'message' events. */
  resume(): this {
    this.paused = false;
    if (!this.connecting && !this.readEnded && this.receiveBuffer) this[kConnection]?.want(POLL_READABLE, true);
    return this;
  }

  /** True while 'message' events are paused. */
  isPaused(): boolean {
    return this.paused;
  }

  /**
   * Sends `data` (if given) as a last message, then shuts down this end's
   * sending side once the queue is flushed: the peer gets 'end'. Receiving
   * goes on with allowHalfOpen; otherwise the socket closes once the peer
   * ends too.
   */
  end(data?: Uint8Array | string, callback?: () => void): this {
    if (typeof data === 'function') {
      callback = data as () => void;
      data = undefined;
    }
    if (data !== undefined) this.send(data);
    if (callback) this.once('finish', callback);
    if (this.writeEnded || this.destroyed) return this;
    this.writeEnded = true;
    if (!this.connecting && this.queue.length === 0) this.shutdownWrite();
    return this;
  }

  private shutdownWrite(): void {
    const connection = this[kConnection];
    if (this.finished || !connection || connection.closed) return;
    this.finished = true;
    const status = binding().shutdown(connection.fd, 1);
    if (status < 0 && status !== UV_ENOTCONN) {
      this.destroy(this.error(status, 'shutdown'));
      return;
    }
    process.nextTick(() => {
      this.emit('finish');
      this.closeIfDone();
    });
  }

  private closeIfDone(): void {
    if (this.readEnded && this.finished && !this.destroyed) this.destroy();
  }

  /** Closes the socket at once (queued messages are dropped). Idempotent; 'close' once. */
  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.connecting = false;
    this.idle.clear();
    // A send blocked on the sender's thread is woken (the sender shuts the
    // socket down) and the thread ends; queued messages are dropped.
    this.sender?.close();
    this.sender = null;
    this[kConnection]?.close();
    const dropped = this.queue.splice(0);
    this.queuedBytes = 0;
    this.receiveBuffer = null;
    process.nextTick(() => {
      const closed = new HvsockError('ERR_SOCKET_CLOSED', 'Socket is closed');
      for (const { callback } of dropped) callback?.(error ?? closed);
      if (error) this.emit('error', error);
    });
    // A later turn than 'error', as net.Socket's 'close'.
    setImmediate(() => this.emit('close', error !== undefined));
    return this;
  }

  /** As net.Socket#setTimeout: emits 'timeout' after `ms` idle (0 turns it off); the socket stays open. */
  setTimeout(ms: number, callback?: () => void): this {
    this.idle.set(ms, callback);
    return this;
  }

  /** As net.Socket#ref: an open socket keeps the process alive (the default). */
  ref(): this {
    this.refed = true;
    this[kConnection]?.ref();
    return this;
  }

  /** As net.Socket#unref: this socket alone does not keep the process alive. */
  unref(): this {
    this.refed = false;
    this[kConnection]?.unref();
    return this;
  }

  /** Destroys the socket (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.destroyed) return;
    const closed = new Promise((resolve) => this.once('close', resolve));
    this.destroy();
    await closed;
  }
}

installEndpointGetters(SeqpacketSocket.prototype);

/** Opens and starts connecting a SeqpacketSocket (arguments already validated by connect()). */
export function connectSeqpacket(request: VsockConnectRequest, listener?: () => void): SeqpacketSocket {
  return connectPollPath(
    () => new SeqpacketSocket({ allowHalfOpen: request.allowHalfOpen, highWaterMark: request.highWaterMark }),
    SOCKET_SEQPACKET,
    request,
    listener,
  );
}

/** The connection factory of a SEQPACKET server. */
export function acceptSeqpacket(
  fd: number,
  options: { allowHalfOpen?: boolean; pauseOnConnect?: boolean; highWaterMark?: number },
): SeqpacketSocket {
  const socket = new SeqpacketSocket({ allowHalfOpen: options.allowHalfOpen, highWaterMark: options.highWaterMark });
  if (options.pauseOnConnect) socket.pause();
  socket.accepted(fd);
  return socket;
}

// The poll-driven stream socket: a stream.Duplex over a vsock fd watched by
// uv_poll on this environment's loop, with non-blocking read/writev from the
// addon. Used when Node's handles can't take the fd (lib/io-path.ts) or when
// asked for (`io: 'poll'`, HVSOCK_IO=poll). Same surface as VsockSocket as
// far as a Duplex allows; TLS and HTTP run over it through Node's JS stream
// wrapper (JSStreamSocket) rather than natively.
import { errorAddress, type Endpoint } from '../../address/index';
import { binding, POLL_READABLE, POLL_WRITABLE, SOCKET_STREAM } from '../../binding';
import { systemError } from '../../errors';
import { UV_EAGAIN, UV_ENOTCONN } from '../../errno';
import { PollConnection } from './connection';
import { installEndpointGetters, kConnection, localAddressInfo, connectPollPath } from './common';
import type { VsockEndpointGetters } from '../../duplex/getters';
import { DuplexSocket, type DuplexSocketOptions } from '../../duplex/socket';
import type { VsockAddressInfo } from '../../address/index';
import type { VsockConnectRequest } from '../../options';

/** Bytes asked of one read(): what libuv gives Node's own streams. */
const READ_CHUNK = 64 * 1024;
/** Reads per readiness event before yielding to the loop (it fires again: level-triggered). */
const READS_PER_EVENT = 32;

export type PollSocketOptions = DuplexSocketOptions;

interface PendingWrite {
  buffers: Buffer[];
  callback: (error?: Error | null) => void;
}

export interface PollSocket extends VsockEndpointGetters {}

/** A vsock stream on the poll path (see the file comment). */
export class PollSocket extends DuplexSocket {
  /** @internal */
  [kConnection]: PollConnection | null = null;
  private pendingWrite: PendingWrite | null = null;
  private pendingFinal: ((error?: Error | null) => void) | null = null;
  private reading = false;
  private hadError = false;
  private readChunk: Buffer | null = null;
  private endpoint: Endpoint | undefined;

  /** @internal Takes ownership of a connected (or connecting) fd. */
  attach(fd: number): void {
    const connection = new PollConnection(fd, {
      readable: () => this.readNow(),
      writable: () => this.flush(),
      failed: (status, syscall = 'read') => this.destroy(this.error(status, syscall)),
    });
    this[kConnection] = connection;
    if (!this.refed) connection.unref();
  }

  /** @internal Starts connecting the attached fd to `endpoint`. */
  startConnect(endpoint: Endpoint, listener?: () => void): void {
    this.endpoint = endpoint;
    this.connecting = true;
    if (listener) this.once('connect', listener);
    this[kConnection]?.connect(endpoint, (status) => {
      if (status < 0) {
        this.destroy(this.error(status, 'connect'));
        return;
      }
      this.connected();
    });
  }

  /** @internal Takes an accepted fd: connected already, so no 'connect' event (as net). */
  accepted(fd: number): void {
    this.attach(fd);
    this[kConnection]?.learnNames();
    this.endpoint = this[kConnection]?.peer;
    this.idle.touch();
  }

  /** @internal Marks a freshly connected socket ready. */
  connected(): void {
    this.connecting = false;
    this.idle.touch();
    this.emit('connect');
    this.emit('ready');
    if (this.pendingWrite) this.flush();
    if (this.pendingFinal) this._final(this.pendingFinal);
    if (this.reading) this[kConnection]?.want(POLL_READABLE, true);
    // As net: start reading at once, so the peer's end is seen (and the
    // socket can close) even when nobody consumes data.
    else if (!this.isPaused()) this.read(0);
  }

  private error(status: number, syscall: string): Error {
    return systemError(status, syscall, this.endpoint ? errorAddress(this.endpoint) : undefined);
  }

  override get pending(): boolean {
    return this[kConnection] === null || this.connecting;
  }

  /** As net.Socket#address(). */
  override address(): VsockAddressInfo | Record<string, never> {
    return localAddressInfo(this[kConnection]);
  }

  // Reads start on the next readiness event, never inside _read(): like
  // net's handle, so 'data'/'end' can't fire before the caller that just saw
  // 'connect' (or resumed) has attached its listeners.
  /** @internal */
  override _read(): void {
    this.reading = true;
    if (!this.connecting) this[kConnection]?.want(POLL_READABLE, true);
  }

  private readNow(): void {
    const connection = this[kConnection];
    if (!connection || connection.closed || this.destroyed) return;
    const native = binding();
    for (let i = 0; i < READS_PER_EVENT && this.reading; i++) {
      const chunk = this.readChunk ?? Buffer.allocUnsafe(Math.max(READ_CHUNK, this.readableHighWaterMark));
      this.readChunk = null;
      const n = native.read!(connection.fd, chunk);
      if (n === UV_EAGAIN) {
        this.readChunk = chunk;
        connection.want(POLL_READABLE, true);
        return;
      }
      if (n < 0) {
        this.destroy(this.error(n, 'read'));
        return;
      }
      if (n === 0) {
        connection.want(POLL_READABLE, false);
        this.reading = false;
        this.push(null);
        this.read(0); // as net: lets 'end' out even when nobody consumes data
        return;
      }
      this.bytesRead += n;
      this.idle.touch();
      // A short read keeps the big buffer for the next one and hands out a copy.
      let data: Buffer;
      if (n < chunk.length >> 2) {
        data = Buffer.from(chunk.subarray(0, n));
        this.readChunk = chunk;
      } else {
        data = chunk.subarray(0, n);
      }
      this.reading = this.push(data);
    }
    // Stopped by backpressure (push() said enough): _read() resumes.
    connection.want(POLL_READABLE, this.reading);
  }

  /** @internal */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pendingWrite = { buffers: [chunk], callback };
    if (!this.connecting) this.flush();
  }

  /** @internal */
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.pendingWrite = { buffers: chunks.map((c) => c.chunk), callback };
    if (!this.connecting) this.flush();
  }

  // Writes as much of the pending batch as the kernel takes; waits for
  // writability on EAGAIN or a short write.
  private flush(): void {
    const connection = this[kConnection];
    const pending = this.pendingWrite;
    if (!connection || connection.closed || !pending) return;
    const native = binding();
    while (pending.buffers.length > 0) {
      const n = native.writev!(connection.fd, pending.buffers);
      if (n === UV_EAGAIN) {
        connection.want(POLL_WRITABLE, true);
        return;
      }
      if (n < 0) {
        this.pendingWrite = null;
        connection.want(POLL_WRITABLE, false);
        pending.callback(this.error(n, 'write'));
        return;
      }
      this.bytesWritten += n;
      this.idle.touch();
      dropWritten(pending.buffers, n);
    }
    this.pendingWrite = null;
    connection.want(POLL_WRITABLE, false);
    pending.callback();
  }

  // end(): shutdown(SHUT_WR) once everything before it is written.
  /** @internal */
  override _final(callback: (error?: Error | null) => void): void {
    const connection = this[kConnection];
    if (this.connecting || !connection) {
      this.pendingFinal = callback;
      return;
    }
    this.pendingFinal = null;
    const status = connection.closed ? 0 : binding().shutdown(connection.fd, 1);
    callback(status < 0 && status !== UV_ENOTCONN ? this.error(status, 'shutdown') : null);
  }

  /** @internal */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.hadError = error !== null && error !== undefined;
    this.idle.clear();
    this.connecting = false;
    this[kConnection]?.close();
    this.pendingWrite = null;
    this.readChunk = null;
    callback(error);
    // With hadError, as net.Socket's 'close'.
    setImmediate(() => this.emit('close', this.hadError));
  }

  protected override refNative(refed: boolean): void {
    if (refed) this[kConnection]?.ref();
    else this[kConnection]?.unref();
  }
}

installEndpointGetters(PollSocket.prototype);

/** Removes the first `n` bytes from a list of buffers, in place. */
export function dropWritten(buffers: Buffer[], n: number): void {
  let left = n;
  while (left > 0 && buffers.length > 0) {
    const first = buffers[0];
    if (first.length <= left) {
      left -= first.length;
      buffers.shift();
    } else {
      buffers[0] = first.subarray(left);
      left = 0;
    }
  }
  while (buffers.length > 0 && buffers[0].length === 0) buffers.shift();
}

/** Opens and starts connecting a PollSocket (arguments already validated). */
export function connectPollSocket(request: VsockConnectRequest, listener?: () => void): PollSocket {
  return connectPollPath(() => new PollSocket({ allowHalfOpen: request.allowHalfOpen }), SOCKET_STREAM, request, listener);
}

/** The connection factory of a stream PollServer. */
export function acceptPollSocket(fd: number, options: { allowHalfOpen?: boolean; pauseOnConnect?: boolean }): PollSocket {
  const socket = new PollSocket({ allowHalfOpen: options.allowHalfOpen });
  socket.accepted(fd);
  if (options.pauseOnConnect) socket.pause();
  else socket.read(0); // as net does for accepted sockets
  return socket;
}

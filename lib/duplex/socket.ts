// The net.Socket-like surface of hvsock's own stream.Duplex sockets, where
// no Node handle does the I/O: the Linux poll path's PollSocket
// (lib/linux/poll/stream.ts) and the Windows overlapped path's
// OverlappedSocket (lib/win/overlapped.ts) extend it and add only their I/O
// (_read/_write/_final/_destroy, connect and accept). Platform-neutral: it
// imports neither lib/linux/ nor lib/win/.
import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import type { VsockAddressInfo } from '../address/index';
import { HvsockError } from '../errors';
import { IdleTimer } from './idle';

/** Options of the Duplex socket classes (connect() and createServer() pass them). */
export interface DuplexSocketOptions {
  /** As net: keep the writable side open after the peer ends (default false). */
  allowHalfOpen?: boolean;
  /** As stream.Duplex: the readable side's buffer threshold. */
  readableHighWaterMark?: number;
  /** As stream.Duplex: queued bytes at which write() returns false. */
  writableHighWaterMark?: number;
}

/** The net.Socket-like base of the Duplex sockets (PollSocket on Linux, OverlappedSocket on Windows): timeouts, readyState, ref/unref, destroySoon. */
export abstract class DuplexSocket extends Duplex {
  /** True until the connect completes (or fails), as net.Socket#connecting. */
  connecting = false;
  /** Bytes received, as net.Socket#bytesRead. */
  bytesRead = 0;
  /** Bytes sent, as net.Socket#bytesWritten. */
  bytesWritten = 0;
  protected readonly idle = new IdleTimer(this);
  /** ref()/unref() as last called: remembered for handles made later. */
  protected refed = true;

  /** @internal connect() and servers make these sockets. */
  constructor(options: DuplexSocketOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen ?? false, // net's default, not Duplex's
      readableHighWaterMark: options.readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark,
      decodeStrings: true,
      // 'close' is emitted by _destroy on a later turn of the loop, as
      // net.Socket emits it from its handle's close callback: after 'error',
      // never in the same tick (callers await 'error' and then 'close').
      emitClose: false,
    });
  }

  /** As net.Socket#pending: no connected descriptor yet. */
  abstract get pending(): boolean;

  /** As net.Socket#address(). */
  abstract address(): VsockAddressInfo | Record<string, never>;

  /** Refs (true) or unrefs the native objects that keep the loop alive now. */
  protected abstract refNative(refed: boolean): void;

  /** As net.Socket#readyState: 'opening', 'open', 'readOnly', 'writeOnly' or 'closed'. */
  get readyState(): net.SocketReadyState {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  /** The idle timeout in ms, if set (setTimeout()), as net.Socket#timeout. */
  get timeout(): number | undefined {
    return this.idle.ms || undefined;
  }

  /** As net.Socket#setTimeout(): 'timeout' after `ms` idle; 0 disables. */
  setTimeout(ms: number, callback?: () => void): this {
    this.idle.set(ms, callback);
    return this;
  }

  /** TCP-only: accepted and ignored, as net does for vsock (http calls it). */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  /** TCP-only: accepted and ignored. */
  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  /** As net.Socket#ref: an open socket keeps the process alive (the default). */
  ref(): this {
    this.refed = true;
    this.refNative(true);
    return this;
  }

  /** As net.Socket#unref: this socket alone does not keep the process alive. */
  unref(): this {
    this.refed = false;
    this.refNative(false);
    return this;
  }

  /** As net.Socket#destroySoon(): end(), then destroy once written. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** net's deprecated alias of writableLength. */
  get bufferSize(): number {
    return this.writableLength;
  }

  /** Addresses tried by net's autoSelectFamily: none for vsock. */
  readonly autoSelectFamilyAttemptedAddresses: string[] = [];

  /** As net.Socket#resetAndDestroy(); vsock has no RST, so it is destroy(). */
  resetAndDestroy(): this {
    return this.destroy();
  }

  /** Not supported: a vsock socket connects once. Call hvsock.connect() again. */
  connect(..._args: unknown[]): this {
    throw new HvsockError('ERR_HVSOCK_SOCKET_NOT_REUSABLE', 'an hvsock socket connects once: call hvsock.connect() for a new connection');
  }
}

/** What failLater() needs of a socket (either Duplex class, or SeqpacketSocket). */
export interface FailableSocket {
  connecting: boolean;
  destroy(error?: Error): unknown;
}

/** Makes a new `socket` report `error` asynchronously, as net does; it never connects. */
export function failLater<S extends FailableSocket>(socket: S, error: Error): S {
  socket.connecting = true; // writes and sends wait, so the real error is what the caller sees
  process.nextTick(() => socket.destroy(error));
  return socket;
}

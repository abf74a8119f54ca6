// The Windows default I/O path ('overlapped', lib/io-path.ts): a connected
// AF_HYPERV SOCKET read and written by the addon's own completion port
// (native/overlapped_win32.cc), exposed as a stream.Duplex with the poll
// path's surface (both extend lib/duplex/'s DuplexSocket for setTimeout,
// ref/unref state, destroySoon, readyState and the rest; only the I/O differs).
//
// Why it is the default: on the 'handle' path the SOCKET is opened into
// Node's TCP handle and libuv's Windows TCP code does the I/O. libuv never
// compares the bytes a WSASend completion reports with the bytes queued, so
// on real Hyper-V, where an overlapped WSASend can complete partially
// (microsoft/WSL PR #13602), the rest of the write would be lost silently;
// and libuv reads with a zero-byte WSARecv first, which no known hvsocket
// user does. Nothing here has shown that adoption is safe on real Hyper-V:
// 'handle' stays selectable (io: 'handle', HVSOCK_IO=handle) for native TLS
// and speed, at that risk. Here a write completes only when every byte has
// been sent (the native send loop), and reads use real 64 KiB buffers.
import { getSystemErrorName } from 'node:util';
import type * as net from 'node:net';
import { binding } from '../binding';
import { systemError } from '../errors';
import { destroyOnAbort } from '../abort';
import type { VsockAddressInfo } from '../address/index';
import { defineGetters, type VsockEndpointGetters } from '../duplex/getters';
import { DuplexSocket, failLater, type DuplexSocketOptions } from '../duplex/socket';
import { decodeHvEndpoint, describeHvEndpoint, encodeHvEndpoint, hvErrorAddress, type HvEndpoint } from './address';
import { winBinding, type NativeOverlapped, type NativeSocketThread } from './binding';
import { readConnectTimeout } from './options';
import { readHvName } from './socket';
import { sendCapForTesting, usingStandIn } from './transport';

const IO_READ = 1;

function named(status: number, name: string): boolean {
  try {
    return getSystemErrorName(status) === name;
  } catch {
    return false;
  }
}

// Installed by installHyperVGetters() below, as VsockSocket's on Windows.
export interface OverlappedSocket extends VsockEndpointGetters {}

/**
 * A Hyper-V stream on Windows' default I/O path (`io: 'overlapped'`): a
 * stream.Duplex with net.Socket's surface whose reads and writes run on
 * hvsock's own completion port; a write completes only when every byte is
 * sent (partial WSASend completions are resent). connect() and servers make it.
 */
export class OverlappedSocket extends DuplexSocket {
  private io: NativeOverlapped | null = null;
  private connectThread: NativeSocketThread | null = null; // owns the fd while connecting
  private fd = -1;
  private peer: HvEndpoint | undefined;
  private local: HvEndpoint | undefined;
  private wantRead = false;
  private writeDone: ((error?: Error | null) => void) | null = null;
  private queuedWrite: { buffers: Buffer[]; callback: (error?: Error | null) => void } | null = null;
  private queuedFinal: ((error?: Error | null) => void) | null = null;
  private closedWithError = false;

  private hvError(status: number, syscall: string, systemCode?: number): Error {
    return systemError(status, syscall, this.peer ? hvErrorAddress(this.peer) : undefined, systemCode || undefined);
  }

  /** @internal Starts a connect on `fd` (the native waiter thread owns it meanwhile). */
  startHyperVConnect(fd: number, endpoint: HvEndpoint, listener?: () => void): void {
    this.peer = endpoint;
    this.fd = fd;
    this.connecting = true;
    if (listener) this.once('connect', listener);
    const thread = new (winBinding().SocketThread)(fd, encodeHvEndpoint(endpoint), false, (status, systemCode) => {
      if (this.destroyed) return; // its _destroy closed the thread and the fd
      this.connectThread = null;
      if (status < 0) {
        thread.close();
        this.destroy(this.hvError(status, 'connect', systemCode));
        return;
      }
      thread.release(); // the fd is ours now
      if (this.open(fd)) this.connected();
    });
    this.connectThread = thread;
    if (!this.refed) thread.unref();
  }

  /** @internal Takes an accepted SOCKET: connected already, so no 'connect' (as net). */
  acceptedHyperV(fd: number, peer: HvEndpoint | undefined): void {
    this.peer = peer;
    if (this.open(fd)) this.idle.touch();
  }

  // The SOCKET goes to the completion port; false (and destroyed) on failure.
  private open(fd: number): boolean {
    this.fd = fd;
    try {
      this.io = new (winBinding().Overlapped)(
        fd,
        (kind, status, systemCode, data) => this.onIo(kind, status, systemCode, data),
        sendCapForTesting(),
      );
    } catch (error) {
      const status = (error as { status?: number }).status;
      this.destroy(typeof status === 'number' ? this.hvError(status, 'open') : (error as Error));
      return false;
    }
    if (!this.refed) this.io.unref();
    return true;
  }

  /** @internal Marks a freshly connected socket ready. */
  connected(): void {
    this.connecting = false;
    this.idle.touch();
    this.emit('connect');
    this.emit('ready');
    const queued = this.queuedWrite;
    this.queuedWrite = null;
    if (queued) this.send(queued.buffers, queued.callback);
    if (this.queuedFinal) this._final(this.queuedFinal);
    if (this.wantRead) this.startRead();
    else if (!this.isPaused()) this.read(0);
  }

  override get pending(): boolean {
    return this.io === null;
  }

  /** A HyperVAddressInfo; typed as the base's, as VsockServer#address() on Windows. */
  override address(): VsockAddressInfo | Record<string, never> {
    const local = this.localEndpoint();
    return local ? (describeHvEndpoint(local) as unknown as VsockAddressInfo) : {};
  }

  /** @internal This end's name as Windows reports it, read once connected. */
  localEndpoint(): HvEndpoint | undefined {
    if (this.local === undefined && this.io !== null) this.local = readHvName(this.fd, false);
    return this.local;
  }

  /** @internal The peer's VM and service id. */
  get remoteEndpoint(): HvEndpoint | undefined {
    return this.peer;
  }

  /** @internal HVSOCKET_CONNECT_TIMEOUT as Windows holds it, in ms, while open. */
  connectTimeoutOption(): number | undefined {
    return this.io !== null ? readConnectTimeout(this.fd) : undefined;
  }

  /** @internal */
  override _read(): void {
    this.wantRead = true;
    if (this.io !== null) this.startRead();
  }

  private startRead(): void {
    const status = this.io?.read() ?? 0;
    // Reported on the next tick: callers are inside the stream's machinery.
    if (status < 0) process.nextTick(() => this.destroy(this.hvError(status, 'read')));
  }

  private onIo(kind: number, status: number, systemCode: number, data: Buffer | number): void {
    if (this.destroyed) return;
    if (kind === IO_READ) return this.onRead(status, systemCode, data);
    const done = this.writeDone;
    this.writeDone = null;
    if (status < 0) return done?.(this.hvError(status, 'write', systemCode));
    this.bytesWritten += data as number;
    this.idle.touch();
    done?.();
  }

  private onRead(status: number, systemCode: number, data: Buffer | number): void {
    if (status < 0) {
      this.destroy(this.hvError(status, 'read', systemCode));
      return;
    }
    if (typeof data === 'number') {
      // The peer's end (a zero-byte completion of a real-sized read).
      this.wantRead = false;
      this.push(null);
      this.read(0); // as net: lets 'end' out even when nobody consumes data
      return;
    }
    this.bytesRead += data.length;
    this.idle.touch();
    this.wantRead = this.push(data);
    if (this.wantRead) this.startRead();
  }

  /** @internal */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send([chunk], callback);
  }

  /** @internal */
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.send(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  // One write in flight (the stream calls _write/_writev one at a time);
  // its callback runs when the native send loop has sent every byte.
  private send(buffers: Buffer[], callback: (error?: Error | null) => void): void {
    if (this.io === null) {
      this.queuedWrite = { buffers, callback };
      return;
    }
    if (buffers.every((buffer) => buffer.length === 0)) return callback();
    this.writeDone = callback;
    const status = this.io.write(buffers);
    if (status < 0) {
      this.writeDone = null;
      callback(this.hvError(status, 'write'));
    }
  }

  // end(): shutdown(SD_SEND) once everything before it is sent.
  /** @internal */
  override _final(callback: (error?: Error | null) => void): void {
    if (this.io === null) {
      this.queuedFinal = callback;
      return;
    }
    this.queuedFinal = null;
    const status = this.io.shutdown();
    callback(status < 0 && !named(status, 'ENOTCONN') ? this.hvError(status, 'shutdown') : null);
  }

  /** @internal */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closedWithError = error !== null && error !== undefined;
    this.idle.clear();
    this.connecting = false;
    this.connectThread?.close(); // takes the fd from the waiter thread and closes it
    this.connectThread = null;
    this.io?.close(); // CancelIoEx + closesocket; no result is delivered after this
    this.io = null;
    this.queuedWrite = null;
    this.writeDone = null;
    callback(error);
    setImmediate(() => this.emit('close', this.closedWithError));
  }

  protected override refNative(refed: boolean): void {
    if (refed) {
      this.io?.ref();
      this.connectThread?.ref();
    } else {
      this.io?.unref();
      this.connectThread?.unref();
    }
  }
}

// The Hyper-V getters, as HyperVSocket has them (lib/win/socket.ts):
// remoteAddress is the peer's VM id, remoteFamily 'hyperv', no CIDs.
function installHyperVGetters(prototype: object): void {
  const sides: Record<string, (s: OverlappedSocket) => HvEndpoint | undefined> = {
    remote: (s) => s.remoteEndpoint,
    local: (s) => s.localEndpoint(),
  };
  const getters: Record<string, (s: OverlappedSocket) => unknown> = {
    remoteCid: () => undefined,
    localCid: () => undefined,
    vsockBufferSize: () => undefined,
    connectTimeout: (s) => s.connectTimeoutOption(),
  };
  for (const [side, endpointOf] of Object.entries(sides)) {
    for (const field of ['vmId', 'serviceId', 'address', 'port', 'family'] as const) {
      // remoteVmId, ..., localFamily: from describeHvEndpoint, as HyperVSocket's.
      getters[side + field[0].toUpperCase() + field.slice(1)] = (s) => {
        const endpoint = endpointOf(s);
        return endpoint ? describeHvEndpoint(endpoint)[field] : undefined;
      };
    }
  }
  defineGetters(prototype, getters);
}

installHyperVGetters(OverlappedSocket.prototype);

/** An OverlappedSocket that reports `error` asynchronously and never connects. */
export function failedOverlappedSocket(options: DuplexSocketOptions, error: Error): OverlappedSocket {
  return failLater(new OverlappedSocket(options), error);
}

/** connect() options the overlapped path takes (validated by connectHyperV). */
export interface OverlappedConnectRequest {
  allowHalfOpen?: boolean;
  timeout?: number;
  signal?: AbortSignal;
}

/** Connects `fd` (socket made, options applied) on the overlapped path. */
export function connectOverlapped(
  fd: number,
  endpoint: HvEndpoint,
  request: OverlappedConnectRequest,
  listener?: () => void,
): OverlappedSocket {
  const socket = new OverlappedSocket({ allowHalfOpen: request.allowHalfOpen });
  if (request.signal) destroyOnAbort(socket, request.signal);
  if (request.timeout !== undefined) socket.setTimeout(request.timeout);
  try {
    socket.startHyperVConnect(fd, endpoint, listener);
  } catch (error) {
    binding().close(fd); // nothing started: the fd is still ours
    process.nextTick(() => socket.destroy(error as Error));
  }
  return socket;
}

type AcceptingServer = net.Server & {
  _connections: number;
  _emitCloseIfDrained(): void;
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
};

/**
 * An accepted SOCKET on the overlapped path, given to net.Server as its own
 * onconnection would give a net.Socket: maxConnections, getConnections(),
 * close() waiting for connections to drain and 'connection' are net's.
 */
export function acceptOverlapped(server: net.Server, fd: number, peerBytes: Uint8Array, close: (fd: number) => void): void {
  const owner = server as AcceptingServer;
  if (owner.maxConnections !== undefined && owner._connections >= owner.maxConnections) {
    close(fd); // as net: dropped, the peer sees its end
    return;
  }
  const socket = new OverlappedSocket({ allowHalfOpen: owner.allowHalfOpen });
  socket.acceptedHyperV(fd, decodeHvEndpoint(peerBytes, usingStandIn()));
  (socket as unknown as { server: net.Server }).server = server;
  owner._connections++;
  socket.once('close', () => {
    owner._connections--;
    owner._emitCloseIfDrained();
  });
  if (owner.pauseOnConnect) socket.pause();
  else socket.read(0); // as net does for accepted sockets
  server.emit('connection', socket);
}

// Client sockets: connect() returns a real net.Socket subclass whose
// descriptor lives in Node's own Pipe handle; net runs the connecting state
// machine (early writes buffered, 'connect'/'ready', errors) itself.
import * as net from 'node:net';
import {
  addressBuffer,
  decodeEndpoint,
  encodeEndpoint,
  errorAddress,
  formatEndpoint,
  resolveVsockAddress,
  type AddressOptions,
  type Endpoint,
} from './address';
import { binding, optionValue, POLL_WRITABLE, SOCKET_STREAM, VsockOption, type NativePoller } from './binding';
import { HvsockError, invalidArgType, invalidArgValue, outOfRange, systemError } from './errors';
import { socketFromFd, type FromFdOptions } from './fd';
import { handleOf, newStreamHandle, type ConnectRequest, type StreamHandle } from './handles';
import { applySettings, pickConnectSettings, type ConnectSettings } from './settings';
import { parseAddress } from './uri';
import { ConnectRetrier, pickRetryOptions, type RetryOptions } from './retry';
import { pickIoPath, type IoPath } from './io-path';
import { connectPollSocket, type PollSocket } from './poll-socket';
import type { HybridConnectOptions, HybridSocket } from './hybrid/connect';
import { connectSeqpacket, pickSocketType, type SeqpacketConnectOptions, type SeqpacketSocket } from './seqpacket';

const UV_EINPROGRESS = -115;

const kPeer = Symbol('hvsock.peer');
const kLocal = Symbol('hvsock.local');

/** Options of connect(): an address plus net-style and vsock settings. */
export interface ConnectOptions extends AddressOptions, ConnectSettings {
  /** Keep the writable side open after the peer ends (as in net). */
  allowHalfOpen?: boolean;
  /** Idle timeout in ms: 'timeout' after this long without activity (as in net). */
  timeout?: number;
  /** Destroys the socket (AbortError) when aborted, also while connecting. */
  signal?: AbortSignal;
  /**
   * Retry the connect while the peer is not there yet (lib/retry.ts): the
   * socket stays connecting and emits 'retry' ({ attempt, delay, error })
   * before each wait. `true` for the defaults.
   */
  retry?: RetryOptions | boolean;
  /**
   * I/O path: 'handle' (Node's own handles, a net.Socket) or 'poll' (a
   * uv_poll-driven stream.Duplex). Default: HVSOCK_IO, else 'handle' where
   * it works. See lib/io-path.ts.
   */
  io?: IoPath;
  /** 'stream' (default) or 'seqpacket' (message socket, lib/seqpacket.ts). */
  type?: 'stream' | 'seqpacket';
}

/** What connect() returns for a stream: a net.Socket (a HybridSocket for udsPath), or a Duplex on the poll path. */
export type HvsockSocket = VsockSocket | PollSocket | HybridSocket;

/** The address of one end of a vsock connection, as address() reports it. */
export interface VsockAddressInfo extends net.AddressInfo {
  cid: number;
  port: number;
  vmId: string | undefined;
  serviceId: string;
}

/** address()-style info for an endpoint: `address` is the CID as text, family 'vsock'. */
export function describeEndpoint(endpoint: Endpoint): VsockAddressInfo {
  return { address: String(endpoint.cid), family: 'vsock', ...endpoint };
}

function readName(fd: number, peer: boolean): Endpoint | undefined {
  const out = addressBuffer();
  const status = peer ? binding().getpeername(fd, out) : binding().getsockname(fd, out);
  return status === 0 ? decodeEndpoint(out) : undefined;
}

/**
 * A vsock stream: a net.Socket with vsock addresses. `remoteAddress` is the
 * CID as a string, `remotePort` the vsock port, `remoteFamily` 'vsock'.
 */
export class VsockSocket extends net.Socket {
  declare [kPeer]: Endpoint | undefined;
  declare [kLocal]: Endpoint | undefined;

  /** The peer's context id. */
  get remoteCid(): number | undefined {
    return this[kPeer]?.cid;
  }
  /** The peer's VM id, for the well-known CIDs (PARENT, LOOPBACK). */
  get remoteVmId(): string | undefined {
    return this[kPeer]?.vmId;
  }
  /** The peer's port as a service id (VSOCK template). */
  get remoteServiceId(): string | undefined {
    return this[kPeer]?.serviceId;
  }
  /** This end's context id as the kernel reports it (a client sees CID ANY). */
  get localCid(): number | undefined {
    return this.localEndpoint()?.cid;
  }
  get localVmId(): string | undefined {
    return this.localEndpoint()?.vmId;
  }
  get localServiceId(): string | undefined {
    return this.localEndpoint()?.serviceId;
  }

  /**
   * The connection's receive buffer in bytes as the kernel has it
   * (SO_VM_SOCKETS_BUFFER_SIZE). Named apart from net's deprecated
   * `bufferSize` (an alias of writableLength). A bigint past
   * Number.MAX_SAFE_INTEGER (the kernel holds a u64).
   */
  get vsockBufferSize(): number | bigint | undefined {
    return this.readOption((fd) => binding().getOption(fd, VsockOption.BUFFER_SIZE));
  }

  /** The connect timeout in ms as the kernel holds it (rounded up to its tick; a bigint past 2^53 - 1). */
  get connectTimeout(): number | bigint | undefined {
    return this.readOption((fd) => binding().getConnectTimeout(fd));
  }

  private readOption(read: (fd: number) => number | bigint): number | bigint | undefined {
    const handle = handleOf(this);
    return handle ? optionValue(read(handle.fd)) : undefined;
  }

  // net's remoteAddress/remotePort/remoteFamily read this.
  _getpeername(): Partial<VsockAddressInfo> {
    const peer = this[kPeer];
    return peer ? describeEndpoint(peer) : {};
  }

  // net's address()/localAddress/localPort read this.
  _getsockname(): Partial<VsockAddressInfo> {
    const local = this.localEndpoint();
    return local ? describeEndpoint(local) : {};
  }

  private localEndpoint(): Endpoint | undefined {
    if (this[kLocal] === undefined && !this.connecting) {
      const handle = handleOf(this);
      if (handle) this[kLocal] = readName(handle.fd, false);
    }
    return this[kLocal];
  }

  /**
   * Wraps a connected AF_VSOCK stream descriptor (inherited, or made by other
   * code), as `new net.Socket({ fd })` does for TCP. The socket owns `fd`
   * from then on. Throws ERR_HVSOCK_BAD_FD for anything else (lib/fd.ts).
   */
  static fromFd(fd: number, options?: FromFdOptions): VsockSocket {
    return socketFromFd(fd, options);
  }

  /** Not supported: a vsock socket connects once. Call hvsock.connect() again. */
  override connect(..._args: unknown[]): this {
    throw new HvsockError(
      'ERR_HVSOCK_SOCKET_NOT_REUSABLE',
      'an hvsock socket connects once: call hvsock.connect() for a new connection',
    );
  }
}

/** Makes a net-created socket (from an accepting server) a VsockSocket. */
export function adoptAcceptedSocket(socket: net.Socket): VsockSocket {
  const adopted = Object.setPrototypeOf(socket, VsockSocket.prototype) as VsockSocket;
  const handle = handleOf(adopted);
  if (handle) {
    adopted[kPeer] = readName(handle.fd, true);
    adopted[kLocal] = readName(handle.fd, false);
  }
  return adopted;
}

/** Node's AbortError shape (name 'AbortError', code 'ABORT_ERR', the reason as cause). */
export function abortError(signal: AbortSignal): Error {
  const error = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  error.name = 'AbortError';
  error.code = 'ABORT_ERR';
  return error;
}

// The signal is handled here rather than by net.Socket's `signal` option: in
// Node 20 that option destroys the stream through the Duplex base on a later
// tick, outside net's connect path, and can leave the peer's accepted end open.
// Shared with the poll path (lib/poll-socket.ts), hence the structural type.
export function destroyOnAbort(
  socket: { destroy(error: Error): unknown; once(event: 'close', listener: () => void): unknown },
  signal: AbortSignal,
): void {
  const onAbort = (): void => {
    socket.destroy(abortError(signal));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  socket.once('close', () => signal.removeEventListener('abort', onAbort));
}

// A socket that never connected: it reports `error` asynchronously, as net
// does for failures it finds before the connect starts.
export function failedSocket(options: ConnectOptions, error: Error): VsockSocket {
  const socket = new VsockSocket({ allowHalfOpen: options.allowHalfOpen });
  (socket as { connecting: boolean }).connecting = true; // buffer early writes so the real error wins
  process.nextTick(() => socket.destroy(error));
  return socket;
}

// Replaces the handle's connect/close/ref/unref so that net's own connect
// path drives a non-blocking vsock connect completed by a uv_poll watcher.
//
// The fd is owned by the native watcher until the connect succeeds, and only
// then opened into Node's handle. Node closes its own handles at environment
// teardown (a Worker terminated) without going through JS; if the handle held
// the fd then, it would close it under our registered poll and libuv would
// abort. The watcher's teardown hook closes the poll first, then the fd.
//
// With connect({ retry }), a failed attempt may be followed by another on a
// fresh descriptor from `reopen` (see lib/retry.ts); net never notices.
interface RetryHooks {
  retrier?: ConnectRetrier; // set once the socket exists
  reopen: () => number | Error;
}
function installConnect(
  handle: StreamHandle,
  fd: number,
  endpoint: Endpoint,
  owner: () => VsockSocket,
  retry?: RetryHooks,
): void {
  const native = binding();
  let poller: NativePoller | null = null; // holds the fd while set
  let ownFd = true; // false once the fd is closed or belongs to the handle
  let refed = true;
  const closeOwnedFd = (): void => {
    if (!ownFd) return;
    if (poller) poller.close(); // closes the poll, then the fd
    else native.close(fd); // net destroyed the socket before it connected
    poller = null;
    ownFd = false;
  };
  const moveFdIntoHandle = (): number => {
    poller?.release();
    poller = null;
    ownFd = false;
    const status = handle.open(fd);
    if (status < 0) native.close(fd);
    return status;
  };
  const close = handle.close;
  const ref = handle.ref;
  const unref = handle.unref;
  handle.close = function closeFdFirst(callback?: () => void): void {
    retry?.retrier?.cancel();
    closeOwnedFd();
    close.call(this, callback);
  };
  handle.ref = function refBoth(): void {
    refed = true;
    poller?.ref();
    retry?.retrier?.ref();
    ref.call(this);
  };
  handle.unref = function unrefBoth(): void {
    refed = false;
    poller?.unref();
    retry?.retrier?.unref();
    unref.call(this);
  };
  const attempt = (request: ConnectRequest): void => {
    const finish = (status: number): void => {
      const socket = owner();
      if (socket.destroyed) return; // its close already released the fd
      const outcome = status === 0 ? moveFdIntoHandle() : status;
      if (outcome === 0) {
        request.oncomplete(0, handle, request, true, true);
      } else {
        closeOwnedFd();
        const error = systemError(outcome, status === 0 ? 'open' : 'connect', errorAddress(endpoint));
        if (retry?.retrier?.failed(error, () => tryAgain(request))) return;
        socket.destroy(error);
      }
    };
    poller = new native.Poller(fd, () => finish(native.takeError(fd)), true);
    if (!refed) poller.unref();
    const status = native.connect(fd, encodeEndpoint(endpoint));
    const started = status === UV_EINPROGRESS ? poller.start(POLL_WRITABLE) : status;
    // Like net, report a connect that ended at once asynchronously.
    if (started !== 0 || status === 0) process.nextTick(finish, started);
  };
  const tryAgain = (request: ConnectRequest): void => {
    const opened = (retry as RetryHooks).reopen(); // only retries call this
    if (typeof opened !== 'number') return void owner().destroy(opened);
    fd = opened;
    ownFd = true;
    attempt(request);
  };
  handle.connect = (request: ConnectRequest): number => {
    attempt(request);
    return 0;
  };
}

/** Validates connect()'s net-style options (shared with lib/win/connect.ts). */
export function checkNetConnectOptions(options: ConnectOptions, connectListener: unknown): void {
  if (connectListener !== undefined && typeof connectListener !== 'function') {
    throw invalidArgType('connectListener', 'of type function', connectListener);
  }
  if (options.allowHalfOpen !== undefined && typeof options.allowHalfOpen !== 'boolean') {
    throw invalidArgType('options.allowHalfOpen', 'of type boolean', options.allowHalfOpen);
  }
  // Checked here, as socket.setTimeout() would, so a bad value throws
  // before a descriptor exists rather than leaving one open.
  if (options.timeout !== undefined) {
    if (typeof options.timeout !== 'number') throw invalidArgType('options.timeout', 'of type number', options.timeout);
    if (!(options.timeout >= 0)) throw outOfRange('options.timeout', '>= 0', options.timeout);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', options.signal);
  }
}

/**
 * Connects to a vsock / Hyper-V socket service and returns a net.Socket (a
 * Duplex on the poll path, a message socket for type 'seqpacket').
 * Address by `{ vmId, serviceId }` or, on Linux, `{ cid, port }`, or by a
 * URI string (`vsock://1:5000`, `hvsock://parent/5000`; see parseAddress).
 */
export function connect(target: HybridConnectOptions, connectListener?: () => void): HybridSocket;
export function connect(target: SeqpacketConnectOptions, connectListener?: () => void): SeqpacketSocket;
export function connect(target: ConnectOptions | string, connectListener?: () => void): HvsockSocket;
export function connect(target: ConnectOptions | string, connectListener?: () => void): HvsockSocket | SeqpacketSocket {
  const options: ConnectOptions = typeof target === 'string' ? parseAddress(target, 'options') : target;
  // Hybrid vsock: the VMM's Unix socket (lib/hybrid/connect.ts, which builds on this module).
  if (options?.udsPath !== undefined) return (require('./hybrid/connect') as typeof import('./hybrid/connect')).connectHybrid(options as HybridConnectOptions, connectListener);
  const io = pickIoPath(options?.io); // throws for 'poll' where the addon has no poll path (Windows)
  const type = pickSocketType(options?.type);
  // Windows: AF_HYPERV through a native connect thread. Loaded lazily:
  // lib/win/connect.ts builds on this module.
  if (process.platform === 'win32') {
    if (type === 'seqpacket') throw new HvsockError('ERR_HVSOCK_UNSUPPORTED_PLATFORM', "type: 'seqpacket' is a Linux AF_VSOCK socket type");
    return (require('./win/connect') as typeof import('./win/connect')).connectHyperV(options, connectListener, io);
  }
  const endpoint = resolveVsockAddress(options, 'connect');
  const settings = pickConnectSettings(options);
  checkNetConnectOptions(options, connectListener);
  const retryPolicy = pickRetryOptions(options.retry);
  // The poll path and message sockets (lib/poll-socket.ts, lib/seqpacket.ts).
  if (type === 'seqpacket' || io === 'poll') {
    // The retry loop drives net's connect state machine (installConnect below).
    if (retryPolicy) throw invalidArgValue('options.retry', options.retry, "is supported for stream sockets on the 'handle' I/O path only");
    const request = { endpoint, settings, allowHalfOpen: options.allowHalfOpen, timeout: options.timeout, signal: options.signal };
    return type === 'seqpacket' ? connectSeqpacket(request, connectListener) : connectPollSocket(request, connectListener);
  }
  const where = errorAddress(endpoint);
  // Aborted already: no descriptor is ever made, so nothing reaches the peer.
  if (options.signal?.aborted) return failedSocket(options, abortError(options.signal));
  if (retryPolicy?.signal?.aborted) return failedSocket(options, abortError(retryPolicy.signal));
  const native = binding();
  const open = (): number | Error => {
    const fd = native.socket(SOCKET_STREAM);
    if (fd < 0) return systemError(fd, 'socket', where);
    const failure = applySettings(fd, settings);
    if (!failure) return fd;
    native.close(fd);
    return systemError(failure.status, failure.syscall, where);
  };
  const fd = open();
  if (typeof fd !== 'number') return failedSocket(options, fd);
  const handle = newStreamHandle();
  if (typeof handle === 'number') {
    native.close(fd);
    return failedSocket(options, systemError(handle, 'open', where));
  }
  let socket: VsockSocket | undefined;
  const retry: RetryHooks | undefined = retryPolicy && { reopen: open };
  installConnect(handle, fd, endpoint, () => socket as VsockSocket, retry);
  socket = new VsockSocket({
    handle,
    allowHalfOpen: options.allowHalfOpen,
    manualStart: true, // net starts reading once connected
  } as net.SocketConstructorOpts);
  socket[kPeer] = endpoint;
  if (options.signal) destroyOnAbort(socket, options.signal);
  if (retry && retryPolicy) retry.retrier = new ConnectRetrier(socket, retryPolicy);
  if (options.timeout !== undefined) socket.setTimeout(options.timeout);
  startNetConnect(socket, formatEndpoint(endpoint), connectListener);
  return socket;
}

/**
 * Runs net's own connect state machine on `socket`, whose handle's
 * connect(req) was replaced: net's pipe path, where `label` only names the
 * attempt (the handle ignores it).
 */
export function startNetConnect(socket: VsockSocket, label: string, listener?: () => void): void {
  const netConnect = net.Socket.prototype.connect as (options: net.IpcSocketConnectOpts, listener?: () => void) => net.Socket;
  netConnect.call(socket, { path: label }, listener);
}

/** Alias of connect(), as in node:net. */
export const createConnection = connect;

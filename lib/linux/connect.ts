// The Linux handle path's connect: a non-blocking AF_VSOCK connect whose
// descriptor goes into Node's own Pipe handle once connected, so the socket
// is a real net.Socket (lib/handle/socket.ts) and net runs its state machine.
import type * as net from 'node:net';
import { encodeEndpoint, errorAddress, formatEndpoint, type Endpoint } from '../address/index';
import { abortError, destroyOnAbort } from '../abort';
import { binding, POLL_WRITABLE, SOCKET_STREAM, type NativePoller } from '../binding';
import { UV_EINPROGRESS } from '../errno';
import { systemError } from '../errors';
import { followHandle, newStreamHandle, type ConnectRequest, type StreamHandle } from '../handle/handles';
import { failedSocket, setPeer, startNetConnect, VsockSocket } from '../handle/socket';
import type { VsockConnectRequest } from '../options';
import { ConnectRetrier } from '../retry';
import { applySettings } from '../settings';

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
function installConnect(handle: StreamHandle, fd: number, endpoint: Endpoint, owner: () => VsockSocket, retry?: RetryHooks): void {
  const native = binding();
  let poller: NativePoller | null = null; // holds the fd while set
  let ownFd = true; // false once the fd is closed or belongs to the handle
  const closeOwnedFd = (): void => {
    if (!ownFd) return;
    if (poller)
      poller.close(); // closes the poll, then the fd
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
  const lifecycle = followHandle(handle, {
    close: () => {
      retry?.retrier?.cancel();
      closeOwnedFd();
    },
    ref: () => {
      poller?.ref();
      retry?.retrier?.ref();
    },
    unref: () => {
      poller?.unref();
      retry?.retrier?.unref();
    },
  });
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
    if (!lifecycle.isRefed()) poller.unref();
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

/** connect() for an AF_VSOCK stream on the handle path (the request is validated: lib/options.ts). */
export function connectVsockStream(request: VsockConnectRequest, connectListener?: () => void): VsockSocket {
  const { endpoint, settings } = request;
  const where = errorAddress(endpoint);
  // Aborted already: no descriptor is ever made, so nothing reaches the peer.
  if (request.signal?.aborted) return failedSocket(request, abortError(request.signal));
  if (request.retry?.signal?.aborted) return failedSocket(request, abortError(request.retry.signal));
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
  if (typeof fd !== 'number') return failedSocket(request, fd);
  const handle = newStreamHandle();
  if (typeof handle === 'number') {
    native.close(fd);
    return failedSocket(request, systemError(handle, 'open', where));
  }
  let socket: VsockSocket | undefined;
  const retry: RetryHooks | undefined = request.retry && { reopen: open };
  installConnect(handle, fd, endpoint, () => socket as VsockSocket, retry);
  socket = new VsockSocket({
    handle,
    allowHalfOpen: request.allowHalfOpen,
    manualStart: true, // net starts reading once connected
  } as net.SocketConstructorOpts);
  setPeer(socket, endpoint);
  if (request.signal) destroyOnAbort(socket, request.signal);
  if (retry && request.retry) retry.retrier = new ConnectRetrier(socket, request.retry);
  if (request.timeout !== undefined) socket.setTimeout(request.timeout);
  startNetConnect(socket, formatEndpoint(endpoint), connectListener);
  return socket;
}

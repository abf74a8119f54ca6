// connect() on Windows: an AF_HYPERV SOCKET connects without blocking, waited
// for by the environment's one connect-waiter thread (WSAEventSelect; honours
// HVSOCKET_CONNECT_TIMEOUT), then is opened into
// Node's TCP handle so that net's own connect path completes it: early
// writes buffered, 'connect'/'ready', errors, as on Linux (lib/linux/connect.ts).
import type * as net from 'node:net';
import { binding } from '../binding';
import type { IoPath } from '../io-path';
import { HvsockError, systemError } from '../errors';
import { followHandle, newTcpHandle, type ConnectRequest, type StreamHandle } from '../handle/handles';
import { abortError, destroyOnAbort } from '../abort';
import { failedSocket, startNetConnect } from '../handle/socket';
import { checkNetConnectOptions, type ConnectOptions } from '../options';
import { encodeHvEndpoint, formatHvEndpoint, hvErrorAddress, resolveHyperVAddress, type HvEndpoint } from './address';
import { winBinding, type NativeSocketThread } from './binding';
import { applyHyperVSettings, pickHyperVSettings } from './options';
import { connectOverlapped, failedOverlappedSocket, type OverlappedSocket } from './overlapped';
import { HyperVSocket, setPeer } from './socket';
import { openSocket } from './transport';

/** A system error with the raw Windows code of the failure just seen. */
export function winError(status: number, syscall: string, endpoint?: HvEndpoint, systemCode?: number): Error {
  const code = systemCode ?? winBinding().lastSystemError();
  return systemError(status, syscall, endpoint ? hvErrorAddress(endpoint) : undefined, code || undefined);
}

/** Node's TCP handle class could not be reached (neither publicly nor via process.binding). */
export function noAdoption(): HvsockError {
  return new HvsockError('ERR_HVSOCK_NO_ADOPTION', "cannot make Node's TCP handle in this runtime, which Windows hvsock sockets live in");
}

// Replaces the handle's connect/close/ref/unref. The native connect owns the
// fd until the connect succeeds; only then is it opened into the handle, so
// Node closing its handle at teardown never closes a socket the thread uses.
function installThreadConnect(handle: StreamHandle, fd: number, endpoint: HvEndpoint, owner: () => HyperVSocket): void {
  const native = binding();
  let thread: NativeSocketThread | null = null; // holds the fd while set
  let ownFd = true; // false once the fd is closed or belongs to the handle
  const closeOwnedFd = (): void => {
    if (!ownFd) return;
    if (thread)
      thread.close(); // takes it from the waiter thread, closes the fd
    else native.close(fd);
    thread = null;
    ownFd = false;
  };
  const lifecycle = followHandle(handle, {
    close: closeOwnedFd,
    ref: () => thread?.ref(),
    unref: () => thread?.unref(),
  });
  handle.connect = (request: ConnectRequest): number => {
    const finish = (status: number, systemCode: number): void => {
      const socket = owner();
      if (socket.destroyed) return; // its close already closed the fd
      let outcome = status;
      if (status === 0) {
        thread?.release();
        thread = null;
        ownFd = false;
        outcome = handle.open(fd); // uv_tcp_open: IOCP association, non-blocking
        if (outcome < 0) native.close(fd);
      }
      if (outcome === 0) {
        request.oncomplete(0, handle, request, true, true);
      } else {
        closeOwnedFd();
        // An open() failure is libuv's (uv_tcp_open), with no Windows code of ours to report.
        socket.destroy(winError(outcome, status === 0 ? 'open' : 'connect', endpoint, status === 0 ? 0 : systemCode));
      }
    };
    thread = new (winBinding().SocketThread)(fd, encodeHvEndpoint(endpoint), false, finish);
    if (!lifecycle.isRefed()) thread.unref();
    return 0;
  };
}

/**
 * connect() for Windows; see connectVsockStream() in lib/linux/connect.ts. `io` 'overlapped'
 * (the default, lib/win/overlapped.ts) gives an OverlappedSocket, 'handle'
 * a HyperVSocket in Node's TCP handle.
 */
export function connectHyperV(
  options: ConnectOptions,
  connectListener?: () => void,
  io: IoPath = 'handle',
): HyperVSocket | OverlappedSocket {
  const endpoint = resolveHyperVAddress(options, 'connect');
  const settings = pickHyperVSettings(options, true);
  checkNetConnectOptions(options, connectListener);
  // The retry loop (lib/retry.ts) drives the Linux connect path only.
  if (options.retry !== undefined) {
    throw new HvsockError(
      'ERR_HVSOCK_UNSUPPORTED_PLATFORM',
      'connect({ retry }) is not available on Windows yet: retry in your code (isRetryableConnectError())',
    );
  }
  const failed = (error: Error): HyperVSocket | OverlappedSocket =>
    io === 'overlapped'
      ? failedOverlappedSocket({ allowHalfOpen: options.allowHalfOpen }, error)
      : Object.setPrototypeOf(failedSocket(options, error), HyperVSocket.prototype);
  if (options.signal?.aborted) return failed(abortError(options.signal));
  const fd = openSocket();
  if (fd < 0) return failed(winError(fd, 'socket', endpoint));
  const failure = applyHyperVSettings(fd, settings);
  if (failure) {
    const error = winError(failure.status, failure.syscall, endpoint);
    binding().close(fd);
    return failed(error);
  }
  if (io === 'overlapped') return connectOverlapped(fd, endpoint, options, connectListener);
  const handle = newTcpHandle('socket');
  if (typeof handle === 'number') {
    binding().close(fd);
    return failed(noAdoption());
  }
  let socket: HyperVSocket | undefined;
  installThreadConnect(handle, fd, endpoint, () => socket as HyperVSocket);
  socket = new HyperVSocket({ handle, allowHalfOpen: options.allowHalfOpen, manualStart: true } as net.SocketConstructorOpts);
  setPeer(socket, endpoint);
  if (options.signal) destroyOnAbort(socket, options.signal);
  if (options.timeout !== undefined) socket.setTimeout(options.timeout);
  startNetConnect(socket, formatHvEndpoint(endpoint), connectListener);
  return socket;
}

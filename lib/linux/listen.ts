// The Linux handle path's listen: a bound AF_VSOCK descriptor goes into
// Node's TCP(SERVER) handle and net's own listen/accept machinery runs it.
// openBoundSocket() is shared with the poll path (lib/linux/poll/server.ts).
import type * as net from 'node:net';
import { addressBuffer, decodeEndpoint, encodeEndpoint, errorAddress, type Endpoint } from '../address/index';
import { binding, SOCKET_STREAM } from '../binding';
import { alreadyListening, systemError, type HvsockSystemError } from '../errors';
import { adoptListener, handleOf, type StreamHandle } from '../handle/handles';
import { acceptVsockSockets } from '../handle/socket';
import type { VsockListenRequest } from '../options';
import { applySettings, definedOnly, type SocketSettings } from '../settings';

/** A listening descriptor ready for server.listen(handle), or the error that stopped it. */
export type OpenedListener = { handle: StreamHandle; local: Endpoint } | { error: HvsockSystemError };

/** A bound, not yet listening descriptor, or the error that stopped it. */
export type BoundSocket = { fd: number; local: Endpoint } | { error: HvsockSystemError };

/**
 * socket + options + bind + getsockname. Shared with the poll path
 * (lib/linux/poll/server.ts), which passes SOCKET_SEQPACKET for message servers.
 */
export function openBoundSocket(endpoint: Endpoint, settings: SocketSettings, type = SOCKET_STREAM): BoundSocket {
  const where = errorAddress(endpoint);
  const native = binding();
  const fd = native.socket(type);
  if (fd < 0) return { error: systemError(fd, 'socket', where) };
  const fail = (status: number, syscall: string): BoundSocket => {
    native.close(fd);
    return { error: systemError(status, syscall, where) };
  };
  const failure = applySettings(fd, settings);
  if (failure) return fail(failure.status, failure.syscall);
  // Reported as 'listen' like net does for its own bind step (EADDRINUSE).
  const bound = native.bind(fd, encodeEndpoint(endpoint));
  if (bound < 0) return fail(bound, 'listen');
  const out = addressBuffer();
  const named = native.getsockname(fd, out);
  if (named < 0) return fail(named, 'getsockname');
  return { fd, local: decodeEndpoint(out) };
}

/** socket + options + bind + adoption into a TCP(SERVER) handle. */
export function openListener(endpoint: Endpoint, settings: SocketSettings): OpenedListener {
  const bound = openBoundSocket(endpoint, settings);
  if ('error' in bound) return bound;
  const handle = adoptListener(bound.fd);
  if (typeof handle === 'number') {
    binding().close(bound.fd);
    return { error: systemError(handle, 'open', errorAddress(endpoint)) };
  }
  return { handle, local: bound.local };
}

/**
 * The listen step shared by VsockServer and listenOn(), for a validated
 * request (lib/options.ts pickListenArguments()): opens the bound descriptor
 * and gives its handle to net's own listen(handle, backlog) through
 * `listenHandle`, with the bound endpoint. Failures to bind go out as
 * 'error' on the next tick, as net reports them.
 */
export function listenVsock(
  server: net.Server,
  request: VsockListenRequest,
  listeningListener: unknown,
  defaults: SocketSettings,
  listenHandle: (handle: StreamHandle, backlog: number, local: Endpoint) => void,
): void {
  if (server.listening || handleOf(server)) throw alreadyListening();
  if (listeningListener) server.once('listening', listeningListener as () => void);
  const opened = openListener(request.endpoint, { ...defaults, ...definedOnly(request.settings) });
  if ('error' in opened) {
    process.nextTick(() => server.emit('error', opened.error));
    return;
  }
  listenHandle(opened.handle, request.backlog, opened.local);
  acceptVsockSockets(server);
}

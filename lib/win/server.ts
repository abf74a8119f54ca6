// Servers on Windows. libuv cannot accept AF_HYPERV connections (its
// AcceptEx makes AF_INET accept sockets), so a native thread accepts
// (native/addon_win32.cc) and this file hands each connected SOCKET, opened
// into Node's TCP handle, to net.Server's own onconnection. net itself then
// runs 'connection', maxConnections, getConnections(), close() draining,
// ref()/unref(): the server handle is a real, never-opened TCP(SERVER)
// handle whose listen/close/ref/unref start and stop the accept thread.
import type * as net from 'node:net';
import { addressBuffer } from '../address/index';
import { binding } from '../binding';
import { alreadyListening, HvsockError } from '../errors';
import { followHandle, handleOf, newTcpHandle, type StreamHandle } from '../handle/handles';
import { definedOnly } from '../settings';
import { checkListener, listenTarget, pickBacklog } from '../options';
import {
  decodeHvEndpoint,
  describeHvEndpoint,
  encodeHvEndpoint,
  resolveHyperVAddress,
  type HvEndpoint,
  type HyperVAddressInfo,
} from './address';
import { winBinding, type NativeSocketThread } from './binding';
import { noAdoption, winError } from './connect';
import type { IoPath } from '../io-path';
import { acceptOverlapped } from './overlapped';
import { applyHyperVSettings, pickHyperVSettings, type HyperVSettings } from './options';
import { adoptAcceptedHyperV } from './socket';
import { openSocket, usingStandIn } from './transport';

const kLocal = Symbol('hvsock.hvServerLocal');
const kPeer = Symbol('hvsock.acceptedPeer');

type ServerHandle = StreamHandle & {
  onconnection?: (status: number, client?: StreamHandle) => void;
  [kPeer]?: HvEndpoint;
};
type HvServer = net.Server & { [kLocal]?: HvEndpoint };

// The TCP(SERVER) handle whose listen(backlog) starts accepting on `fd`.
// On the overlapped path accepted SOCKETs never meet libuv: they become
// OverlappedSockets, counted and emitted as net's onconnection would.
function acceptingHandle(fd: number, owner: net.Server, io: IoPath): ServerHandle | number {
  const handle = newTcpHandle('server');
  if (typeof handle === 'number') return handle;
  const server = handle as ServerHandle;
  const native = binding();
  let thread: NativeSocketThread | null = null;
  let ownFd = true;
  // Accept errors go to net as they are ('error' with syscall 'accept').
  const onAccept = (status: number, _systemCode: number, client: number, peer: Uint8Array): void => {
    if (status < 0) return server.onconnection?.(status);
    if (io === 'overlapped') return acceptOverlapped(owner, client, peer, native.close);
    const accepted = newTcpHandle('socket');
    const opened = typeof accepted === 'number' ? accepted : accepted.open(client);
    if (typeof accepted === 'number' || opened < 0) {
      native.close(client);
      if (typeof accepted === 'object') accepted.close();
      return server.onconnection?.(opened);
    }
    (accepted as ServerHandle)[kPeer] = decodeHvEndpoint(peer, usingStandIn());
    server.onconnection?.(0, accepted);
  };
  const lifecycle = followHandle(server, {
    close: () => {
      if (thread)
        thread.close(); // stops the accept thread (no join), closes the listener
      else if (ownFd) native.close(fd);
      thread = null;
      ownFd = false;
    },
    ref: () => thread?.ref(),
    unref: () => thread?.unref(),
  });
  server.listen = (backlog: number): number => {
    const status = native.listen(fd, backlog);
    if (status < 0) return status;
    thread = new (winBinding().SocketThread)(fd, null, true, onAccept);
    if (!lifecycle.isRefed()) thread.unref();
    return 0;
  };
  return server;
}

/** The peer a connection was accepted from (set on its handle above). */
export function adoptAcceptedConnection(socket: net.Socket): void {
  const handle = handleOf(socket) as ServerHandle | null;
  adoptAcceptedHyperV(socket, handle?.[kPeer]);
}

/**
 * listen() for Windows; see listenVsock() in lib/linux/listen.ts. `listenHandle`
 * is net.Server's own listen(handle, backlog).
 */
export function listenHyperV(
  server: net.Server,
  options: object | number | string,
  listeningListener: unknown,
  defaults: HyperVSettings,
  listenHandle: (handle: StreamHandle, backlog: number) => void,
  io: IoPath = 'handle',
): void {
  const given: object = listenTarget(options); // a bare port is rejected with a clear error just below
  if ((given as { fd?: unknown }).fd !== undefined) {
    throw new HvsockError(
      'ERR_HVSOCK_UNSUPPORTED_PLATFORM',
      'listen({ fd }) adopts Linux AF_VSOCK descriptors; it is not available on Windows',
    );
  }
  const endpoint = resolveHyperVAddress(given, 'listen');
  const settings = { ...defaults, ...definedOnly(pickHyperVSettings(given, false)) };
  const backlog = pickBacklog((given as { backlog?: unknown }).backlog);
  checkListener('listeningListener', listeningListener);
  if (server.listening || handleOf(server)) throw alreadyListening();
  if (listeningListener) server.once('listening', listeningListener as () => void);
  const fail = (error: Error): void => {
    process.nextTick(() => server.emit('error', error));
  };
  const fd = openSocket();
  if (fd < 0) return fail(winError(fd, 'socket', endpoint));
  const failWith = (status: number, syscall: string): void => {
    const error = winError(status, syscall, endpoint);
    binding().close(fd);
    fail(error);
  };
  const failure = applyHyperVSettings(fd, settings);
  if (failure) return failWith(failure.status, failure.syscall);
  const bound = binding().bind(fd, encodeHvEndpoint(endpoint));
  if (bound < 0) return failWith(bound, 'listen'); // as net reports its own bind step
  const out = addressBuffer();
  const named = binding().getsockname(fd, out);
  if (named < 0) return failWith(named, 'getsockname');
  const handle = acceptingHandle(fd, server, io);
  if (typeof handle === 'number') {
    binding().close(fd);
    return fail(noAdoption());
  }
  // A wildcard bind reports the zero GUID; keep what was asked for otherwise.
  (server as HvServer)[kLocal] = usingStandIn() ? decodeHvEndpoint(out, true) : endpoint;
  // WSL2 never connects to WILDCARD/CHILDREN listeners, but finding out means
  // running wsl.exe: listen() starts no process; warnIfWslMissesWildcard()
  // (lib/win/host-discovery.ts) is there for servers that want the check.
  listenHandle(handle, backlog);
}

/** server.address() on Windows. */
export function hyperVServerAddress(server: net.Server): HyperVAddressInfo | null {
  const local = (server as HvServer)[kLocal];
  return server.listening && local ? describeHvEndpoint(local) : null;
}

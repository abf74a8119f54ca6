// listen() on a hybrid endpoint: guest-initiated connections. The VMM
// connects to `<udsPath>_<port>` (`<udsPath>_<GUID>` for OpenVMM's non-template
// service ids), so the host serves a Unix socket there. A socket file left
// by a crashed server is replaced; a live one (something accepts on it) or a
// file that is not a socket is never touched. libuv removes the file on close.
import { lstat, unlink } from 'node:fs';
import * as net from 'node:net';
import { constants } from 'node:os';
import { alreadyListening, HvsockError, invalidArgType, systemError, type HvsockSystemError } from '../errors';
import { adoptHybridAccepted, describeHybrid, type HybridAddressInfo } from './connect';
import {
  hybridErrorAddress,
  listenerPath,
  rejectVsockOnly,
  resolveHybridAddress,
  type HybridAddressOptions,
  type HybridEndpoint,
} from './endpoint';

interface HybridListenState {
  endpoint: HybridEndpoint;
  listening: boolean;
}
const servers = new WeakMap<net.Server, HybridListenState>();
const prepared = new WeakSet<net.Server>();

/** True while `server` listens (or is about to) on a hybrid endpoint. */
export function isHybridServer(server: net.Server): boolean {
  return servers.has(server);
}

function addressInUse(endpoint: HybridEndpoint, hint: string): HvsockSystemError {
  return systemError(-(constants.errno.EADDRINUSE as number), 'listen', hybridErrorAddress(endpoint, hint));
}

// Whether the way to PATH_<port> is clear, clearing a stale socket file.
function clearStale(endpoint: HybridEndpoint, file: string, done: (error?: Error) => void): void {
  lstat(file, (statError, stats) => {
    if (statError)
      return done(statError.code === 'ENOENT' ? undefined : systemError(statError.errno ?? -1, 'listen', hybridErrorAddress(endpoint)));
    if (!stats.isSocket()) return done(addressInUse(endpoint, `${file} exists and is not a socket: not removing it`));
    const probe = net.createConnection({ path: file });
    probe.once('connect', () => {
      probe.destroy();
      done(addressInUse(endpoint, `a server is listening on ${file}: not replacing a live socket`));
    });
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNREFUSED') return done(systemError(error.errno ?? -1, 'listen', hybridErrorAddress(endpoint)));
      // Nobody accepts there: a socket file left by a server that died.
      unlink(file, (unlinkError) =>
        done(
          unlinkError && unlinkError.code !== 'ENOENT'
            ? systemError(unlinkError.errno ?? -1, 'listen', hybridErrorAddress(endpoint))
            : undefined,
        ),
      );
    });
  });
}

// server.address() while serving a hybrid endpoint: what was asked for (the
// URI formats back to it), not the PATH_<port> string net would give.
function hybridAddress(this: net.Server): HybridAddressInfo | net.AddressInfo | string | null {
  const state = servers.get(this);
  if (state?.listening && this.listening)
    return { ...describeHybrid(state.endpoint), path: listenerPath(state.endpoint) } as HybridAddressInfo;
  return Object.getPrototypeOf(this).address.call(this);
}

/**
 * Makes any net.Server serve guest-initiated connections of a hybrid
 * endpoint: it listens on `<udsPath>_<port>` and its sockets are
 * HybridSockets (localServiceId says which port they came in on).
 * Failures ('EADDRINUSE' for a live socket file, ...) go out as 'error'.
 */
export function listenHybrid(server: net.Server, options: HybridAddressOptions, backlog: number, listeningListener?: () => void): void {
  const endpoint = resolveHybridAddress(options);
  rejectVsockOnly(options);
  if (process.platform === 'win32') {
    throw new HvsockError('ERR_HVSOCK_UNSUPPORTED_PLATFORM', 'hybrid vsock needs Unix domain sockets (Linux and macOS hosts)');
  }
  if (server.listening || servers.get(server)?.listening === false) throw alreadyListening();
  if (listeningListener !== undefined && typeof listeningListener !== 'function') {
    throw invalidArgType('listeningListener', 'of type function', listeningListener);
  }
  if (listeningListener) server.once('listening', listeningListener);
  if (!prepared.has(server)) {
    prepared.add(server);
    // Before the server's own handler, which may wrap the socket (TLS).
    server.prependListener('connection', (socket: net.Socket) => {
      const state = servers.get(server);
      if (state?.listening) adoptHybridAccepted(socket, state.endpoint);
    });
    server.address = hybridAddress;
    server.on('close', () => servers.delete(server));
  }
  const state: HybridListenState = { endpoint, listening: false };
  servers.set(server, state);
  const file = listenerPath(endpoint);
  clearStale(endpoint, file, (error) => {
    if (servers.get(server) !== state) return; // closed meanwhile
    if (error) {
      servers.delete(server);
      server.emit('error', error);
      return;
    }
    state.listening = true;
    net.Server.prototype.listen.call(server, { path: file, backlog });
  });
}

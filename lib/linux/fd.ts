// Adopting vsock descriptors made elsewhere: inherited from a parent process
// (child_process stdio), from systemd socket activation, or from other
// native code. Node's net refuses them (uv_guess_handle says UNKNOWN), so
// each is checked here — a socket, AF_VSOCK, SOCK_STREAM, in the right state —
// and then goes into the same Node handles our own descriptors use.
//
// Ownership: once adoption succeeds the library owns the descriptor and
// closes it when the socket/server closes. Until then it is the caller's:
// when a check fails (a synchronous throw) or adoption itself fails (an
// 'error' event), the descriptor is left open for the caller to close.
import type * as net from 'node:net';
import { errorAddress, PORT_ANY, type Endpoint } from '../address/index';
import { readName } from '../address/names';
import { binding } from '../binding';
import { UV_ENOTCONN, UV_ENOTSOCK } from '../errno';
import { alreadyListening, fdError, HvsockError, invalidArgType, outOfRange, systemError } from '../errors';
import { adoptListener, adoptStream, handleOf, type StreamHandle } from '../handle/handles';
import { checkListener, pickSocketSettings } from '../options';
import { applySettings, definedOnly, type SocketSettings } from '../settings';
import { acceptVsockSockets, adoptAcceptedSocket, VsockSocket } from '../handle/socket';

// Linux numbers, for messages only (the checks compare against the addon's constants).
const FAMILY_NAMES: Readonly<Record<number, string>> = {
  1: 'AF_UNIX',
  2: 'AF_INET',
  10: 'AF_INET6',
  16: 'AF_NETLINK',
  17: 'AF_PACKET',
  40: 'AF_VSOCK',
};
const TYPE_NAMES: Readonly<Record<number, string>> = { 1: 'SOCK_STREAM', 2: 'SOCK_DGRAM', 3: 'SOCK_RAW', 5: 'SOCK_SEQPACKET' };

/** What an adopted descriptor is expected to be. */
type Role = 'stream' | 'listener';

interface Checked {
  local: Endpoint;
}

function badFd(fd: number, found: string): HvsockError {
  return new HvsockError('ERR_HVSOCK_BAD_FD', `fd ${fd} ${found}`);
}

/** Validates the `fd` argument's type and range (synchronously, before any syscall). */
export function validateFd(fd: unknown, name: string): number {
  if (typeof fd !== 'number') throw invalidArgType(name, 'of type number', fd);
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw outOfRange(name, 'an integer >= 0 and <= 2147483647', fd);
  if (binding().constants.platform !== 'linux') {
    throw new HvsockError('ERR_HVSOCK_UNSUPPORTED_PLATFORM', 'adopting a descriptor is supported on Linux only');
  }
  return fd;
}

/**
 * Checks that `fd` is a vsock stream socket in the state `role` needs, and
 * says what it found otherwise. Throws; never closes the descriptor.
 */
export function checkVsockFd(fd: number, role: Role): Checked {
  const native = binding();
  const described = native.describe(fd);
  if (typeof described === 'number') {
    if (described === UV_ENOTSOCK) throw badFd(fd, 'is not a socket');
    throw fdError(described, 'getsockname', fd);
  }
  const [family, type] = described;
  if (family !== native.constants.AF_VSOCK) {
    throw badFd(fd, `is ${FAMILY_NAMES[family] ?? `address family ${family}`}, not AF_VSOCK`);
  }
  if (type !== native.constants.SOCK_STREAM) {
    throw badFd(fd, `is ${TYPE_NAMES[type] ?? `socket type ${type}`}, not SOCK_STREAM`);
  }
  const listening = native.isListening?.(fd) ?? 0;
  if (listening < 0) throw fdError(listening, 'getsockopt', fd);
  const local = readName(fd, false);
  if (typeof local === 'number') throw fdError(local, 'getsockname', fd);
  const peer = listening ? UV_ENOTCONN : readName(fd, true);
  if (role === 'stream') {
    if (listening) throw badFd(fd, 'is a listening socket: use server.listen({ fd })');
    if (peer === UV_ENOTCONN) throw badFd(fd, 'is not connected: adopt connected sockets only');
    if (typeof peer === 'number') throw fdError(peer, 'getpeername', fd);
  } else {
    if (typeof peer !== 'number') throw badFd(fd, 'is a connected socket: use VsockSocket.fromFd()');
    if (!listening && local.port === PORT_ANY) throw badFd(fd, 'is not bound: bind it before listening on it');
  }
  return { local };
}

// Once owned, the descriptor must not leak into processes we spawn.
// Explicit passing still works: spawn's dup2 into the child clears the flag.
function takeOwnership(fd: number): void {
  const status = binding().setCloexec?.(fd) ?? 0;
  if (status < 0) throw fdError(status, 'fcntl', fd);
}

/** Options of VsockSocket.fromFd(), as net.Socket's constructor takes them. */
export interface FromFdOptions {
  /** As net.Socket: keep the writable side open after the peer ends. */
  allowHalfOpen?: boolean;
}

/**
 * Wraps a connected AF_VSOCK stream descriptor in a VsockSocket (what
 * `new net.Socket({ fd })` does for TCP and pipes). The library owns `fd`
 * from then on and closes it with the socket. Note the descriptor's open
 * file description becomes non-blocking, as libuv needs, which a process
 * sharing it sees too.
 *
 * @param fd - A connected AF_VSOCK stream descriptor.
 * @param options - `allowHalfOpen`.
 * @returns The socket, already connected (no 'connect' event).
 * @throws HvsockError `ERR_HVSOCK_BAD_FD` for a descriptor of another kind, a system error `EBADF` for one that is not open.
 * @example
 * ```js
 * const socket = hvsock.socketFromFd(3); // e.g. inherited from a parent process
 * console.log(socket.remoteCid, socket.remotePort);
 * ```
 */
export function socketFromFd(fd: unknown, options: FromFdOptions = {}): VsockSocket {
  const checked = validateFd(fd, 'fd');
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  if (options.allowHalfOpen !== undefined && typeof options.allowHalfOpen !== 'boolean') {
    throw invalidArgType('options.allowHalfOpen', 'of type boolean', options.allowHalfOpen);
  }
  checkVsockFd(checked, 'stream');
  takeOwnership(checked);
  const handle = adoptStream(checked);
  if (typeof handle === 'number') throw fdError(handle, 'open', checked);
  // As net makes accepted sockets: a connected handle, reading at once.
  const socket = new VsockSocket({ handle, allowHalfOpen: options.allowHalfOpen } as net.SocketConstructorOpts);
  return adoptAcceptedSocket(socket);
}

/** listen({ fd }) options: the descriptor plus net's backlog. */
export interface FdListenOptions extends SocketSettings {
  /** A bound or listening AF_VSOCK stream descriptor to adopt. */
  fd: number;
  /** Passed to listen(2) again, as net does for handles (default 4096, capped by the kernel). */
  backlog?: number;
}

/** True for listen() options that name a descriptor rather than an address. */
export function isFdListenOptions(options: unknown): options is FdListenOptions {
  return typeof options === 'object' && options !== null && 'fd' in options && (options as { fd: unknown }).fd !== undefined;
}

/**
 * listen({ fd }) for VsockServer: the same contract as listenVsock() in
 * lib/linux/listen.ts (validation throws, operational errors arrive as 'error'), for a
 * bound or listening AF_VSOCK stream descriptor.
 */
export function listenFd(
  server: net.Server,
  options: FdListenOptions,
  backlog: number, // validated by the caller
  listeningListener: unknown,
  defaults: SocketSettings,
  listenHandle: (handle: StreamHandle, backlog: number, local: Endpoint) => void,
): void {
  const fd = validateFd(options.fd, 'options.fd');
  checkListener('listeningListener', listeningListener);
  if (server.listening || handleOf(server)) throw alreadyListening();
  const settings = definedOnly(pickSocketSettings(options));
  const { local } = checkVsockFd(fd, 'listener');
  if (listeningListener) server.once('listening', listeningListener as () => void);
  const failure = applySettings(fd, { ...defaults, ...settings });
  const handle = failure ? failure.status : adoptListener(fd);
  if (typeof handle === 'number') {
    // Not adopted, so not ours: the caller still owns (and closes) the descriptor.
    const error = systemError(handle, failure?.syscall ?? 'open', errorAddress(local));
    process.nextTick(() => server.emit('error', error));
    return;
  }
  takeOwnership(fd);
  listenHandle(handle, backlog, local);
  acceptVsockSockets(server);
}

// VsockSocket.fromFd() is this function; set here so that lib/handle/socket.ts
// does not import the Linux adoption code back (it would be a cycle).
VsockSocket.fromFd = socketFromFd as (fd: number, options?: FromFdOptions) => VsockSocket;

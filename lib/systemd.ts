// systemd socket activation (sd_listen_fds(3) semantics): a service started
// by a .socket unit with ListenStream=vsock:CID:PORT inherits the listening
// descriptors from fd 3 on, described by LISTEN_PID, LISTEN_FDS and
// LISTEN_FDNAMES. Any launcher that sets the same variables works too.
import { binding } from './binding';
import { HvsockError } from './errors';
import { createServer, type ServerOptions, type VsockServer } from './server';
import type * as net from 'node:net';

/** The first inherited descriptor (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

/** An inherited descriptor and its name from LISTEN_FDNAMES ("unknown" when unnamed, as systemd says). */
export interface SystemdFd {
  /** The descriptor number (3 and up). */
  fd: number;
  /** Its LISTEN_FDNAMES name, e.g. from FileDescriptorName=. */
  name: string;
}

/** Options of listenSystemd() and systemdListenFds(). */
export interface SystemdOptions {
  /**
   * Remove LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES from process.env
   * (default true, like sd_listen_fds(1)), so child processes do not think
   * the descriptors are theirs. Done whatever the outcome, as systemd does.
   */
  unsetEnvironment?: boolean;
}

function envError(message: string): HvsockError {
  return new HvsockError('ERR_HVSOCK_SYSTEMD_ENV', message);
}

const DECIMAL = /^[0-9]+$/;

/**
 * The rules of sd_listen_fds_with_names(): which descriptors `env` hands to
 * process `pid`. No variables, or another process's: none. Malformed
 * variables throw ERR_HVSOCK_SYSTEMD_ENV (systemd's -EINVAL). `claim(fd)`
 * runs on each descriptor before its entry is made and throws to stop:
 * LISTEN_FDS may say up to 2^31 - 4, so the entries must not be built
 * before the descriptors are known to exist (pure without it: tests only).
 */
export function parseListenFds(env: NodeJS.ProcessEnv, pid: number, claim?: (fd: number) => void): SystemdFd[] {
  const listenPid = env.LISTEN_PID;
  if (listenPid === undefined) return [];
  if (!DECIMAL.test(listenPid) || Number(listenPid) < 1) throw envError(`LISTEN_PID is not a process id: ${JSON.stringify(listenPid)}`);
  if (Number(listenPid) !== pid) return []; // meant for another process (e.g. our parent)
  const listenFds = env.LISTEN_FDS;
  if (listenFds === undefined) return [];
  if (!DECIMAL.test(listenFds)) throw envError(`LISTEN_FDS is not a count: ${JSON.stringify(listenFds)}`);
  const count = Number(listenFds);
  if (count > 0x7fffffff - LISTEN_FDS_START) throw envError(`LISTEN_FDS is too large: ${listenFds}`);
  const given = env.LISTEN_FDNAMES;
  const names = given === undefined ? undefined : given === '' ? [] : given.split(':'); // as systemd's strv_split
  if (names !== undefined && names.length !== count) {
    throw envError(`LISTEN_FDNAMES has ${names.length} names for ${count} descriptors`);
  }
  const fds: SystemdFd[] = [];
  for (let i = 0; i < count; i++) {
    const fd = LISTEN_FDS_START + i;
    claim?.(fd);
    fds.push({ fd, name: names?.[i] ?? 'unknown' });
  }
  return fds;
}

/**
 * sd_listen_fds_with_names(): the descriptors this process inherited, each
 * made close-on-exec. Descriptors of any kind; the caller decides what to do
 * with them (VsockSocket.fromFd, server.listen({ fd }), net for others).
 */
export function systemdListenFds(options: SystemdOptions = {}): SystemdFd[] {
  const { unsetEnvironment = true } = options;
  try {
    // Each descriptor is checked (and made close-on-exec) before the next
    // entry is built: a huge LISTEN_FDS stops at the first fd not open here.
    return parseListenFds(process.env, process.pid, (fd) => {
      const status = binding().setCloexec?.(fd) ?? 0;
      if (status < 0) throw envError(`LISTEN_FDS names fd ${fd}, which is not open here (errno ${-status})`);
    });
  } finally {
    if (unsetEnvironment) {
      delete process.env.LISTEN_PID;
      delete process.env.LISTEN_FDS;
      delete process.env.LISTEN_FDNAMES;
    }
  }
}

/** A server on an inherited vsock listener. */
export interface SystemdServer extends SystemdFd {
  /** The server listening on that descriptor (it owns the descriptor). */
  server: VsockServer;
}

function isVsockStream(fd: number): boolean {
  const native = binding();
  const described = native.describe(fd);
  return Array.isArray(described) && described[0] === native.constants.AF_VSOCK && described[1] === native.constants.SOCK_STREAM;
}

/**
 * Socket activation: one listening VsockServer per inherited AF_VSOCK
 * stream listener (in fd order, with its LISTEN_FDNAMES name). Other
 * descriptors (TCP, unix, connected sockets from Accept=yes) are left open
 * and untouched; use systemdListenFds() to get at them. Each server owns its
 * descriptor. Empty when not socket-activated.
 *
 * @param options - createServer()'s options plus `backlog` and `unsetEnvironment`.
 * @param connectionListener - Added as each server's 'connection' listener.
 * @returns One `{ fd, name, server }` per inherited vsock listener.
 * @throws HvsockError `ERR_HVSOCK_SYSTEMD_ENV` for malformed LISTEN_* variables.
 * @example
 * ```js
 * const hvsock = require('hvsock');
 *
 * // agent.socket: [Socket] ListenStream=vsock::5000
 * const [control] = hvsock.listenSystemd({}, (socket) => socket.pipe(socket));
 * if (!control) throw new Error('not socket-activated');
 * ```
 */
export function listenSystemd(
  options: ServerOptions & SystemdOptions & { backlog?: number } = {},
  connectionListener?: (socket: net.Socket) => void,
): SystemdServer[] {
  const { unsetEnvironment, backlog, ...serverOptions } = options;
  const servers: SystemdServer[] = [];
  for (const inherited of systemdListenFds({ unsetEnvironment })) {
    if (!isVsockStream(inherited.fd) || binding().isListening?.(inherited.fd) !== 1) continue;
    // Adopting an fd is done on the handle path (lib/linux/fd.ts): a VsockServer.
    const server = createServer({ ...serverOptions, io: 'handle' }, connectionListener) as VsockServer;
    server.listen({ fd: inherited.fd, backlog });
    servers.push({ ...inherited, server });
  }
  return servers;
}

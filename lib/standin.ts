// TEST-ONLY: not exported from index.ts. Builds our socket around a descriptor
// that is already connected (an AF_UNIX socketpair end from the addon's
// standInPair()), so benchmarks can drive our exact I/O machinery — the
// adopted Pipe handle, VsockSocket, net's own connect completion — at native
// speed on a host without vsock. The only step skipped is the vsock connect(2)
// itself and its uv_poll wait.
import type * as net from 'node:net';
import { binding } from './binding';
import { systemError } from './errors';
import { adoptStream, type ConnectRequest } from './handles';
import { acceptPollSocket, type PollSocket } from './poll-socket';
import { startNetConnect, VsockSocket } from './socket';

/** A connected AF_UNIX stream pair from the addon, as [fd, fd]. */
export function standInPair(): [number, number] {
  const pair = binding().standInPair?.();
  if (!Array.isArray(pair)) throw systemError(typeof pair === 'number' ? pair : -95, 'socketpair');
  return pair;
}

/**
 * A VsockSocket on connected `fd`, made as connect() makes one: adopted into
 * a Pipe handle with manualStart, then net's connect path runs and completes
 * through the handle's connect(req) → req.oncomplete on a later tick.
 */
export function standInSocket(fd: number, options: { allowHalfOpen?: boolean } = {}): VsockSocket {
  const handle = adoptStream(fd);
  if (typeof handle === 'number') {
    binding().close(fd);
    throw systemError(handle, 'open');
  }
  handle.connect = (request: ConnectRequest): number => {
    process.nextTick(() => request.oncomplete(0, handle, request, true, true));
    return 0;
  };
  const socket = new VsockSocket({ handle, allowHalfOpen: options.allowHalfOpen, manualStart: true } as net.SocketConstructorOpts);
  startNetConnect(socket, 'stand-in');
  return socket;
}

/**
 * The second I/O path on connected `fd`: a PollSocket (uv_poll + read/writev
 * Duplex), made as the poll server makes accepted sockets, so benchmarks can
 * compare both paths at native speed.
 */
export function standInPollSocket(fd: number): PollSocket {
  return acceptPollSocket(fd, {});
}

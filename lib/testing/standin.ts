// TEST-ONLY: not exported from index.ts. Builds our socket around a descriptor
// that is already connected (an AF_UNIX socketpair end from the addon's
// standInPair()), so benchmarks can drive our exact I/O machinery — the
// adopted Pipe handle, VsockSocket, net's own connect completion — at native
// speed on a host without vsock. The only step skipped is the vsock connect(2)
// itself and its uv_poll wait.
import type * as net from 'node:net';
import { binding, SOCKET_SEQPACKET, SOCKET_STREAM } from '../binding';
import { systemError } from '../errors';
import { adoptStream, type ConnectRequest } from '../handle/handles';
import { acceptPollSocket, type PollSocket } from '../linux/poll/stream';
import { acceptSeqpacket, type SeqpacketSocket } from '../linux/poll/seqpacket';
import { startNetConnect, VsockSocket } from '../handle/socket';

/** A connected AF_UNIX pair from the addon (SOCK_STREAM, or SOCK_SEQPACKET for SOCKET_SEQPACKET), as [fd, fd]. */
export function standInPair(type = SOCKET_STREAM): [number, number] {
  const pair = binding().standInPair?.(type);
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

/**
 * Two SeqpacketSockets on the ends of a connected AF_UNIX SOCK_SEQPACKET
 * pair, made as the seqpacket server makes accepted sockets: the message
 * socket's whole send/receive machinery without vsock (AF_UNIX keeps
 * message boundaries and its blocking sends wait while the peer reads
 * nothing, as vsock's do).
 */
export function standInSeqpacketPair(options: { allowHalfOpen?: boolean } = {}): [SeqpacketSocket, SeqpacketSocket] {
  const [a, b] = standInPair(SOCKET_SEQPACKET);
  return [acceptSeqpacket(a, options), acceptSeqpacket(b, options)];
}

// The data path of `listen` and `connect`, as socat/ncat do it: stdin to the
// socket, the socket to stdout. Our EOF half-closes (the peer can still
// answer); the peer's EOF ends the command once stdout has the bytes.
import type * as net from 'node:net';
import { until } from './common';

/** Pipes stdin/stdout through `socket`; resolves with exit code 0 when the peer ends. */
export async function pipeStdio(socket: net.Socket): Promise<number> {
  process.stdin.pipe(socket); // stdin EOF → socket.end(): shutdown(SHUT_WR)
  socket.pipe(process.stdout, { end: false });
  await until(socket, 'end');
  process.stdin.unpipe(socket);
  return 0;
}

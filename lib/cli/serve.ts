// The long-running servers (echo, sink): listen, handle each connection,
// stop on SIGINT/SIGTERM with exit code 0.
import type * as net from 'node:net';
import { createServer } from '../server';
import { formatAddress, type ParsedAddress } from '../uri';
import { note, peerName, until } from './common';

export async function serveUntilSignal(name: string, address: ParsedAddress, handle: (socket: net.Socket) => void): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const peer = peerName(socket, address);
    // One peer's failure (EPIPE, reset) must not end the server.
    socket.on('error', (error) => note(`${name}: ${peer}: ${error.message}`));
    handle(socket);
  });
  server.listen(address);
  await until(server, 'listening');
  note(`${name} listening on ${formatAddress(server.address()!)}`);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  return 0;
}

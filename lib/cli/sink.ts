import { addressArgument, type Command } from './common';
import { serveUntilSignal } from './serve';

export const sinkCommand: Command = {
  name: 'sink',
  summary: 'discard server on ADDR that reports the byte count (for bench)',
  usage: `usage: hvsock sink ADDR

Serves every connection on ADDR by reading and discarding everything; when
the peer ends its stream, answers with the number of bytes received (one
decimal line) and closes. hvsock bench checks that count. Runs until
SIGINT/SIGTERM.

  hvsock sink vsock://any:5001
`,
  options: {},
  run(_values, positionals) {
    const address = addressArgument(sinkCommand, positionals);
    return serveUntilSignal('sink', address, (socket) => {
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      socket.on('end', () => socket.end(`${received}\n`));
    });
  },
};

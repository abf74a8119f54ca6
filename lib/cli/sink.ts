import { addressArgument, type Command } from './common';
import { SERVE_OPTIONS, SERVE_USAGE, serveLimits, serveUntilSignal } from './serve';

export const sinkCommand: Command = {
  name: 'sink',
  summary: 'discard server on ADDR that reports the byte count (for bench)',
  usage: `usage: hvsock sink ADDR [--max-connections N] [--idle-timeout S]

Serves every connection on ADDR by reading and discarding everything; when
the peer ends its stream, answers with the number of bytes received (one
decimal line) and closes. hvsock bench checks that count. Runs until
SIGINT/SIGTERM.
${SERVE_USAGE}
  hvsock sink vsock://any:5001
`,
  options: SERVE_OPTIONS,
  run(values, positionals) {
    const address = addressArgument(sinkCommand, positionals);
    return serveUntilSignal('sink', address, serveLimits(sinkCommand, values), (socket) => {
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      socket.on('end', () => socket.end(`${received}\n`));
    });
  },
};

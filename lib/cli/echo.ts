import { addressArgument, type Command } from './common';
import { SERVE_OPTIONS, SERVE_USAGE, serveLimits, serveUntilSignal } from './serve';

export const echoCommand: Command = {
  name: 'echo',
  summary: 'echo server on ADDR (for ping, tests, connectivity checks)',
  usage: `usage: hvsock echo ADDR [--max-connections N] [--idle-timeout S]

Serves every connection on ADDR by sending back what it receives; the
peer's end of stream is echoed too (half-close). Runs until SIGINT/SIGTERM.
${SERVE_USAGE}
  hvsock echo vsock://any:5000
`,
  options: SERVE_OPTIONS,
  run(values, positionals) {
    const address = addressArgument(echoCommand, positionals);
    return serveUntilSignal('echo', address, serveLimits(echoCommand, values), (socket) => socket.pipe(socket));
  },
};

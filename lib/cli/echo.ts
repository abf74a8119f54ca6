import { addressArgument, type Command } from './common';
import { serveUntilSignal } from './serve';

export const echoCommand: Command = {
  name: 'echo',
  summary: 'echo server on ADDR (for ping, tests, connectivity checks)',
  usage: `usage: hvsock echo ADDR

Serves every connection on ADDR by sending back what it receives; the
peer's end of stream is echoed too (half-close). Runs until SIGINT/SIGTERM.

  hvsock echo vsock://any:5000
`,
  options: {},
  run(_values, positionals) {
    const address = addressArgument(echoCommand, positionals);
    return serveUntilSignal('echo', address, (socket) => socket.pipe(socket));
  },
};

import type * as net from 'node:net';
import { createServer } from '../index';
import { addressArgument, CliError, EXIT_USAGE, note, peerName, showAddress, until, type Command } from './common';
import { execFor } from './exec';
import { SERVE_OPTIONS, SERVE_USAGE, serveLimits, serveUntilSignal } from './serve';
import { directionOption, DIRECTION_OPTIONS, DIRECTION_USAGE, pipeStdio } from './stdio';

export const listenCommand: Command = {
  name: 'listen',
  summary: 'accept a connection on ADDR and pipe stdin/stdout through it (-k: many)',
  usage: `usage: hvsock listen ADDR [--send-only | --recv-only] [-e CMD]
       hvsock listen ADDR -k [-e CMD] [--max-connections N] [--idle-timeout S]

Listens on ADDR, accepts one connection (then stops listening) and copies
stdin to it and it to stdout, like socat VSOCK-LISTEN. End of stdin
half-closes the connection; the peer closing ends the command (exit 0).
Status lines ("listening on ...", "connection from ...") go to stderr.
${DIRECTION_USAGE}
  -k, --keep-open       keep listening and serve connections at once until
                        SIGINT/SIGTERM (exit 0), like socat's fork and ncat -k.
                        Without --exec, what each peer sends goes to stdout
                        and stdin is not read.
  -e, --exec CMD        run CMD (through the shell) for each connection, with
                        the connection as its stdin and stdout (socat EXEC,
                        ncat -e, inetd); the connection ends when CMD's
                        stdout closes
With -k:${SERVE_USAGE}
  hvsock listen vsock://any:5000      any CID, port 5000
  hvsock listen vsock://any:any       an ephemeral port (printed on stderr)
  hvsock listen hvsock://wildcard/5000
  hvsock listen vsock://any:5000 -k --recv-only > log.txt
  hvsock listen vsock://any:5000 -k -e 'tr a-z A-Z'
  hvsock listen hvsock:///run/fc/v.sock:5000
                                      serves /run/fc/v.sock_5000, where the VMM
                                      connects when its guest dials CID 2 port 5000
`,
  options: {
    ...DIRECTION_OPTIONS,
    ...SERVE_OPTIONS,
    'keep-open': { type: 'boolean', short: 'k' },
    exec: { type: 'string', short: 'e' },
  },
  async run(values, positionals) {
    const address = addressArgument(listenCommand, positionals, 'listen');
    const direction = directionOption(listenCommand, values);
    const exec = values.exec as string | undefined;
    if (exec !== undefined && (exec === '' || direction !== 'both')) {
      throw new CliError(
        'listen: --exec takes a non-empty command and excludes --send-only / --recv-only (see hvsock listen --help)',
        EXIT_USAGE,
      );
    }
    if (values['keep-open']) {
      if (direction === 'send')
        throw new CliError(
          'listen: -k serves many peers and cannot send stdin to them: use --exec, or drop --send-only (see hvsock listen --help)',
          EXIT_USAGE,
        );
      return serveUntilSignal(
        'listen',
        address,
        serveLimits(listenCommand, values),
        (socket, peer) => {
          note(`connection from ${peer}`);
          if (exec !== undefined) return void execFor(exec, socket, peer);
          socket.pipe(process.stdout, { end: false });
          socket.on('end', () => socket.end());
        },
        'listening on',
      );
    }
    if (values['max-connections'] !== undefined || values['idle-timeout'] !== undefined) {
      throw new CliError('listen: --max-connections and --idle-timeout go with -k (see hvsock listen --help)', EXIT_USAGE);
    }
    const server = createServer({ allowHalfOpen: true });
    server.listen(address);
    await until(server, 'listening');
    note(`listening on ${showAddress(server.address()!)}`);
    const [socket] = (await until(server, 'connection')) as [net.Socket];
    server.close(); // one connection, as socat's VSOCK-LISTEN without fork
    const peer = peerName(socket, address);
    note(`connection from ${peer}`);
    if (exec !== undefined) {
      await execFor(exec, socket, peer);
      return 0;
    }
    return pipeStdio(socket, direction);
  },
};

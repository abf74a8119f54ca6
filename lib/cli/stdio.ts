// The data path of `listen` and `connect`, as socat/ncat do it: stdin to the
// socket, the socket to stdout. Our EOF half-closes (the peer can still
// answer); the peer's EOF ends the command once stdout has the bytes.
// One-way modes, as ncat's --send-only / --recv-only: send-only ignores what
// the peer sends and is done once stdin's bytes are sent and the connection
// half-closed; recv-only never reads stdin (nor half-closes: some peers
// stop at EOF) and is done when the peer ends.
import type * as net from 'node:net';
import { CliError, EXIT_USAGE, until, type Command, type Options, type Values } from './common';

export type Direction = 'both' | 'send' | 'receive';

/** The one-way options of listen and connect. */
export const DIRECTION_OPTIONS: Options = {
  'send-only': { type: 'boolean' },
  'recv-only': { type: 'boolean' },
};

/** Usage lines for DIRECTION_OPTIONS. */
export const DIRECTION_USAGE = `
  --send-only           only send stdin; discard what the peer sends; done once
                        stdin has ended and its bytes are sent (half-close)
  --recv-only           only copy the connection to stdout; stdin is not read
                        and the connection not half-closed; done when the peer ends
`;

/** The direction from the command line. */
export function directionOption(command: Command, values: Values): Direction {
  if (values['send-only'] && values['recv-only']) {
    throw new CliError(`${command.name}: --send-only and --recv-only exclude each other (see hvsock ${command.name} --help)`, EXIT_USAGE);
  }
  return values['send-only'] ? 'send' : values['recv-only'] ? 'receive' : 'both';
}

/** Pipes stdin/stdout through `socket`; resolves with exit code 0 when done (see above). */
export async function pipeStdio(socket: net.Socket, direction: Direction = 'both'): Promise<number> {
  if (direction === 'send') {
    socket.resume(); // discard what the peer sends, so it never blocks on us
    process.stdin.pipe(socket); // stdin EOF → socket.end(): shutdown(SHUT_WR)
    await until(socket, 'finish');
    return 0;
  }
  if (direction === 'both') process.stdin.pipe(socket);
  socket.pipe(process.stdout, { end: false });
  await until(socket, 'end');
  if (direction === 'both') process.stdin.unpipe(socket);
  return 0;
}

// listen --exec CMD: each connection runs CMD through the shell with the
// connection as its stdin and stdout (socat's EXEC with fork, ncat -e,
// inetd's stream services), so a server can be any program that reads
// stdin and writes stdout. CMD's stderr stays the command's own.
import { spawn } from 'node:child_process';
import type * as net from 'node:net';
import { note } from './common';

/** Runs `command` for `socket`; resolves once both the program and the connection are done. */
export function execFor(command: string, socket: net.Socket, peer: string): Promise<void> {
  const child = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      note(`exec: ${JSON.stringify(command)} for ${peer}: ${error.message}`);
      socket.destroy();
      resolve();
    });
    child.once('close', () => resolve());
  });
  child.stdin.on('error', () => undefined); // the program may exit without reading all: EPIPE
  socket.pipe(child.stdin); // the peer's EOF → the program's stdin EOF
  child.stdout.pipe(socket); // the program's stdout closing → socket.end()
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return Promise.all([exited, closed]).then(() => undefined);
}

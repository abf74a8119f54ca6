import type * as net from 'node:net';
import { createServer, formatAddress } from '../index';
import { addressArgument, note, peerName, until, type Command } from './common';
import { pipeStdio } from './stdio';

export const listenCommand: Command = {
  name: 'listen',
  summary: 'accept one connection on ADDR and pipe stdin/stdout through it',
  usage: `usage: hvsock listen ADDR

Listens on ADDR, accepts one connection (then stops listening) and copies
stdin to it and it to stdout, like socat VSOCK-LISTEN. End of stdin
half-closes the connection; the peer closing ends the command (exit 0).
Status lines ("listening on ...") go to stderr.

  hvsock listen vsock://any:5000      any CID, port 5000
  hvsock listen vsock://any:any       an ephemeral port (printed on stderr)
  hvsock listen hvsock://wildcard/5000
  hvsock listen hvsock:///run/fc/v.sock:5000
                                      serves /run/fc/v.sock_5000, where the VMM
                                      connects when its guest dials CID 2 port 5000
`,
  options: {},
  async run(_values, positionals) {
    const address = addressArgument(listenCommand, positionals);
    const server = createServer({ allowHalfOpen: true });
    server.listen(address);
    await until(server, 'listening');
    note(`listening on ${formatAddress(server.address()!)}`);
    const [socket] = (await until(server, 'connection')) as [net.Socket];
    server.close(); // one connection, as socat's VSOCK-LISTEN without fork
    note(`connection from ${peerName(socket, address)}`);
    return pipeStdio(socket);
  },
};

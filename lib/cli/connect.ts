import { connect } from '../index';
import { addressArgument, until, type Command } from './common';
import { pipeStdio } from './stdio';

export const connectCommand: Command = {
  name: 'connect',
  summary: 'connect to ADDR and pipe stdin/stdout through the connection',
  usage: `usage: hvsock connect ADDR

Connects to ADDR and copies stdin to the connection and the connection to
stdout. End of stdin half-closes the connection (the peer can still answer);
the peer closing ends the command with exit code 0.

  hvsock connect vsock://2:5000         the host, port 5000 (from a guest)
  hvsock connect hvsock://parent/5000   the same, by Hyper-V names
  hvsock connect hvsock:///run/fc/v.sock:5000
                                        guest port 5000 through a Firecracker
                                        / Cloud Hypervisor vsock socket (host)
`,
  options: {},
  async run(_values, positionals) {
    const address = addressArgument(connectCommand, positionals);
    const socket = connect({ ...address, allowHalfOpen: true });
    await until(socket, 'connect');
    return pipeStdio(socket);
  },
};

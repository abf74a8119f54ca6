import { addressArgument, type Command } from './common';
import { CLIENT_OPTIONS, CLIENT_USAGE, connectClient } from './client';
import { directionOption, DIRECTION_OPTIONS, DIRECTION_USAGE, pipeStdio } from './stdio';

export const connectCommand: Command = {
  name: 'connect',
  summary: 'connect to ADDR and pipe stdin/stdout through the connection',
  usage: `usage: hvsock connect ADDR [--send-only | --recv-only] [-w S] [-r N]

Connects to ADDR and copies stdin to the connection and the connection to
stdout. End of stdin half-closes the connection (the peer can still answer);
the peer closing ends the command with exit code 0.
${DIRECTION_USAGE}${CLIENT_USAGE}
  hvsock connect vsock://2:5000         the host, port 5000 (from a guest)
  hvsock connect hvsock://parent/5000   the same, by Hyper-V names
  hvsock connect hvsock://zero/5000     the same (HV_GUID_ZERO, as Microsoft's
                                        guide has a VM reach its host)
  hvsock connect vsock://3:5000 -r 30 -w 60
                                        guest CID 3, waiting up to a minute
                                        for its service to come up
  hvsock connect hvsock:///run/fc/v.sock:5000
                                        guest port 5000 through a Firecracker
                                        / Cloud Hypervisor vsock socket (host)
`,
  options: { ...DIRECTION_OPTIONS, ...CLIENT_OPTIONS },
  async run(values, positionals) {
    const address = addressArgument(connectCommand, positionals);
    const direction = directionOption(connectCommand, values);
    const socket = await connectClient(connectCommand, values, address, positionals[0], { allowHalfOpen: true });
    return pipeStdio(socket, direction);
  },
};

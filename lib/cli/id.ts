import { portFromServiceId, serviceIdFromPort, getLocalCid } from '../index';
import { CliError, EXIT_USAGE, integerOption, type Command } from './common';

export const idCommand: Command = {
  name: 'id',
  summary: "this machine's CID; port <-> service id conversions",
  usage: `usage: hvsock id [--port N | --service-id GUID]

Without options prints this machine's vsock CID (from /dev/vsock).
  --port N             prints the Hyper-V service id for vsock port N
  --service-id GUID    prints the vsock port of a VSOCK-template service id
`,
  options: { port: { type: 'string', short: 'p' }, 'service-id': { type: 'string', short: 's' } },
  async run(values, positionals) {
    if (positionals.length > 0 || (values.port !== undefined && values['service-id'] !== undefined)) {
      throw new CliError('id: takes no arguments and at most one of --port, --service-id (see hvsock id --help)', EXIT_USAGE);
    }
    let answer: string | number;
    if (values.port !== undefined) answer = serviceIdFromPort(integerOption(idCommand, values, 'port', 0, 0, 0xffffffff));
    else if (values['service-id'] !== undefined) {
      try {
        answer = portFromServiceId(String(values['service-id']));
      } catch (error) {
        throw new CliError(`id: ${(error as Error).message}`, EXIT_USAGE);
      }
    } else answer = getLocalCid();
    process.stdout.write(`${answer}\n`);
    return 0;
  },
};

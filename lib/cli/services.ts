import { serviceIdFromPort, listServices, registerService, unregisterService } from '../index';
import { CliError, EXIT_FAILURE, EXIT_USAGE, note, type Command } from './common';

const ACTIONS = ['register', 'unregister', 'list'];

// A service id as a GUID, or a vsock port number (its VSOCK-template id).
function serviceArgument(text: string | undefined): string {
  if (text === undefined) throw new CliError('services: expects a SERVICE (GUID or vsock port) (see hvsock services --help)', EXIT_USAGE);
  return /^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff ? serviceIdFromPort(Number(text)) : text;
}

export const servicesCommand: Command = {
  name: 'services',
  summary: 'Hyper-V service registration (Windows hosts)',
  usage: `usage: hvsock services register SERVICE NAME | unregister SERVICE | list

Hyper-V service ids a Windows host listens on must be registered (admin)
under HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\
GuestCommunicationServices. SERVICE is a GUID or a vsock port number (its
VSOCK-template service id, which Linux guests connect to). list prints
"SERVICE-ID<TAB>NAME" lines. Linux needs no registration.
`,
  options: {},
  async run(_values, positionals) {
    const [action, ...rest] = positionals;
    if (!ACTIONS.includes(action)) {
      throw new CliError(`services: expects one of ${ACTIONS.join(', ')} (see hvsock services --help)`, EXIT_USAGE);
    }
    if (process.platform !== 'win32') {
      // Not a mistake worth a usage error: a script shared between hosts may run it anywhere.
      note(
        'services: nothing to do on Linux: a vsock service needs no registration and is reachable as soon as ' +
          'something listens on its port (hvsock listen vsock://any:PORT). Registration is for Windows hosts ' +
          '(HKLM\\...\\GuestCommunicationServices), where Linux guests reach vsock port P as service id ' +
          'PPPPPPPP-facb-11e6-bd58-64006a7986d3 (hvsock id --port P).',
      );
      return 0;
    }
    const arity = { register: 2, unregister: 1, list: 0 }[action as 'register' | 'unregister' | 'list'];
    if (rest.length !== arity) {
      throw new CliError(`services ${action}: expects ${arity} argument(s), got ${rest.length} (see hvsock services --help)`, EXIT_USAGE);
    }
    try {
      if (action === 'list') {
        for (const { serviceId, name } of listServices()) process.stdout.write(`${serviceId}\t${name}\n`);
      } else if (action === 'register') {
        const serviceId = serviceArgument(rest[0]);
        registerService(serviceId, rest[1]);
        note(`registered ${serviceId.toLowerCase()} as ${JSON.stringify(rest[1])}`);
      } else {
        unregisterService(serviceArgument(rest[0]));
      }
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      const usage = code === 'ERR_INVALID_ARG_TYPE' || code === 'ERR_INVALID_ARG_VALUE';
      throw new CliError(`services: ${message}`, usage ? EXIT_USAGE : EXIT_FAILURE);
    }
    return 0;
  },
};

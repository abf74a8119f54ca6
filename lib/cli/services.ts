import { CliError, EXIT_FAILURE, EXIT_USAGE, type Command } from './common';

const ACTIONS = ['register', 'unregister', 'list'];

export const servicesCommand: Command = {
  name: 'services',
  summary: 'Hyper-V service registration (Windows hosts)',
  usage: `usage: hvsock services register|unregister|list

Hyper-V service ids a Windows host listens on must be registered (admin)
under HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\
GuestCommunicationServices. Linux needs no registration.
`,
  options: {},
  async run(_values, positionals) {
    if (positionals.length < 1 || !ACTIONS.includes(positionals[0])) {
      throw new CliError(`services: expects one of ${ACTIONS.join(', ')} (see hvsock services --help)`, EXIT_USAGE);
    }
    if (process.platform !== 'win32') {
      throw new CliError('services: service registration exists only on Windows hosts; Linux needs none', EXIT_USAGE);
    }
    throw new CliError('services: the Windows backend of hvsock is not available yet', EXIT_FAILURE);
  },
};

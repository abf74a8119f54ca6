// Where Windows users get stuck, by (syscall, code): the next step to take.
// Used by systemError() in errors.ts on win32 (a leaf: imports nothing).

export const HYPERV_MISSING =
  'no Hyper-V socket support (AF_HYPERV) here: is Hyper-V enabled? (Windows 10 / Server 2016 or later ' +
  'with the Hyper-V or Virtual Machine Platform feature)';

export function windowsHint(syscall: string, code: string): string | undefined {
  if (code === 'EAFNOSUPPORT' || code === 'EPROTONOSUPPORT' || code === 'ESOCKTNOSUPPORT') return HYPERV_MISSING;
  if (syscall.startsWith('Reg') && (code === 'EPERM' || code === 'EACCES')) {
    return 'run elevated (as Administrator): service registrations live under HKLM';
  }
  if ((syscall === 'listen' || syscall === 'bind') && code === 'EACCES') {
    return 'register the service id (admin): hvsock services register <serviceId> <name>';
  }
  if (syscall === 'connect' && (code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'ECONNRESET')) {
    return 'is a server listening on that service id in the target partition, and is the service id registered on the host?';
  }
  return undefined;
}

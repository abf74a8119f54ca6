// Hyper-V service registration (Windows hosts). A Windows host accepts
// connections for a service id only when it is registered under
//   HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices\<GUID>
// with a display name in ElementName (REG_SZ). Writing needs an elevated
// process; listing does not. Native does the advapi32 calls, policy is here.
import { getSystemErrorName } from 'node:util';
import { HvsockError, invalidArgType, invalidArgValue, systemError } from '../errors';
import { isGuid, parseGuid } from '../address/guid';
import { winBinding } from './binding';

export const SERVICES_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices';

/** One registered service: its id and the ElementName it was registered with. */
export interface ServiceRegistration {
  /** The registered service id (lowercase GUID). */
  serviceId: string;
  /** Its ElementName: the description given when it was registered. */
  name: string;
}

const MAX_NAME = 16_383; // REG_SZ values are limited only by memory; keep names sane

function registry(what: string): ReturnType<typeof winBinding> {
  if (process.platform !== 'win32') {
    throw new HvsockError(
      'ERR_HVSOCK_UNSUPPORTED_PLATFORM',
      `${what}: Hyper-V service registration exists only on Windows hosts (not supported on ${process.platform}; Linux needs none)`,
    );
  }
  return winBinding(what);
}

function fail(status: number, syscall: string, serviceId?: string): never {
  const uri = serviceId ? `${SERVICES_KEY}\\${serviceId}` : SERVICES_KEY;
  throw systemError(status, syscall, { uri, serviceId }, winBinding().lastSystemError() || undefined);
}

/**
 * Registers `serviceId` with display name `name` (creates or updates the
 * key). Throws EACCES (ERROR_ACCESS_DENIED, systemCode 5) with the hint "run elevated" when
 * the process is not elevated.
 *
 * @param serviceId - The service id (a GUID; serviceIdFromPort(P) for a Linux guest's port P).
 * @param name - A description, shown in the registry as ElementName.
 * @throws A system error `EACCES` when not elevated; `ERR_HVSOCK_UNSUPPORTED_PLATFORM` off Windows.
 * @example
 * ```js
 * hvsock.registerService(hvsock.serviceIdFromPort(5000), 'my agent'); // once, as an administrator
 * ```
 */
export function registerService(serviceId: string, name: string): void {
  const id = parseGuid(serviceId, 'serviceId');
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  if (name.length === 0 || name.length > MAX_NAME || name.includes('\0')) {
    throw invalidArgValue('name', name, `must be 1..${MAX_NAME} characters without NUL`);
  }
  const status = registry('registerService').registerService(id, name);
  if (status < 0) fail(status, 'RegCreateKeyExW', id);
}

/** Removes the registration of `serviceId`; ENOENT when it is not registered. */
export function unregisterService(serviceId: string): void {
  const id = parseGuid(serviceId, 'serviceId');
  const status = registry('unregisterService').unregisterService(id);
  if (status < 0) fail(status, 'RegDeleteKeyW', id);
}

/** Every registered service (keys that are not GUIDs are skipped), sorted by id. */
export function listServices(): ServiceRegistration[] {
  const found = registry('listServices').listServices();
  if (typeof found === 'number') {
    if (getSystemErrorName(found) === 'ENOENT') return []; // nothing was ever registered here
    fail(found, 'RegOpenKeyExW');
  }
  return found
    .filter(([key]) => isGuid(key))
    .map(([key, name]) => ({ serviceId: parseGuid(key), name }))
    .sort((a, b) => (a.serviceId < b.serviceId ? -1 : a.serviceId > b.serviceId ? 1 : 0));
}

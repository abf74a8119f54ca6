// Addresses as text, for command lines, config files and messages:
//   vsock://CID:PORT            Linux numbers (or names for well-known CIDs)
//   hvsock://VMID/SERVICEID     Hyper-V GUIDs (or names for well-known VM ids)
// Parsing yields the same option objects connect() and listen() take.
import { Cid, PORT_ANY, portFromServiceId, serviceIdFromPort, VmId, type AddressOptions } from './index';
import { invalidArgType, invalidArgValue, show } from '../errors';
import { isGuid, parseGuid } from './guid';
import { formatHybrid, parseHybridUri } from '../hybrid/endpoint';

/** What parseAddress returns: exactly one of the two address forms. */
export type ParsedAddress =
  | {
      /** vsock://CID:PORT: the context id. */
      cid: number;
      /** The port. */
      port: number;
    }
  | {
      /** hvsock://VMID/SERVICEID: the VM id (lowercase GUID). */
      vmId: string;
      /** The service id (lowercase GUID; a port number becomes its VSOCK-template id). */
      serviceId: string;
    }
  // Hybrid vsock, Kata's hvsock://<absolute path>:<port> (lib/hybrid/endpoint.ts).
  | {
      /** hvsock:///PATH:PORT: the VMM's Unix socket. */
      udsPath: string;
      /** The guest's vsock port. */
      port: number;
    }
  | {
      /** hvsock:///PATH:SERVICEID (OpenVMM): the VMM's Unix socket. */
      udsPath: string;
      /** The guest service id. */
      serviceId: string;
    };

const UINT32_MAX = 0xffffffff;
const SHAPE = 'a URI like vsock://CID:PORT or hvsock://VMID/SERVICEID (or hvsock:///VMM/SOCKET:PORT)';
const SYNTAX = `must be ${SHAPE}`;

// Names are matched case-insensitively; these are the lowercase spellings.
const CID_NAMES: Readonly<Record<string, number>> = Object.freeze({
  any: Cid.ANY,
  local: Cid.LOCAL,
  loopback: Cid.LOCAL,
  host: Cid.HOST,
  hypervisor: Cid.HYPERVISOR,
});

const VM_ID_NAMES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(VmId).map(([name, id]) => [name.toLowerCase(), id])),
);

const PORT_NAMES: Readonly<Record<string, number>> = Object.freeze({ any: PORT_ANY });

const names = (table: Readonly<Record<string, unknown>>): string => Object.keys(table).join(', ');

// Decimal only: "0x10" or "1e3" in an address is far more likely a typo
// than an intent, and socat reads these fields as decimal too.
function uint32(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= UINT32_MAX ? value : undefined;
}

function lookup<T>(text: string, table: Readonly<Record<string, T>>): T | undefined {
  const key = text.toLowerCase();
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function parseVsock(rest: string, text: string, name: string): ParsedAddress {
  const colon = rest.lastIndexOf(':');
  if (colon < 0) throw invalidArgValue(name, text, 'must give both parts of vsock://CID:PORT');
  const cidText = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  const cid = uint32(cidText) ?? lookup(cidText, CID_NAMES);
  if (cid === undefined) {
    throw invalidArgValue(name, text, `has CID "${cidText}": use 0..${UINT32_MAX} or one of ${names(CID_NAMES)}`);
  }
  const port = uint32(portText) ?? lookup(portText, PORT_NAMES);
  if (port === undefined) {
    throw invalidArgValue(name, text, `has port "${portText}": use 0..${UINT32_MAX} or any`);
  }
  return { cid, port };
}

function parseHvsock(rest: string, text: string, name: string): ParsedAddress {
  // A VM id is never empty, so hvsock:/// can only be a path (hybrid vsock).
  if (rest.startsWith('/')) return parseHybridUri(rest, text, name);
  const slash = rest.indexOf('/');
  if (slash < 0) throw invalidArgValue(name, text, 'must give both parts of hvsock://VMID/SERVICEID');
  const vmText = rest.slice(0, slash);
  const serviceText = rest.slice(slash + 1);
  const vmId = isGuid(vmText) ? parseGuid(vmText) : lookup(vmText, VM_ID_NAMES);
  if (vmId === undefined) {
    throw invalidArgValue(name, text, `has VM id "${vmText}": use a GUID or one of ${names(VM_ID_NAMES)}`);
  }
  let serviceId: string | undefined;
  if (isGuid(serviceText)) serviceId = parseGuid(serviceText);
  else {
    const port = uint32(serviceText);
    if (port !== undefined) serviceId = serviceIdFromPort(port);
  }
  if (serviceId === undefined) {
    throw invalidArgValue(name, text, `has service id "${serviceText}": use a GUID or a vsock port 0..${UINT32_MAX} (VSOCK template)`);
  }
  return { vmId, serviceId };
}

/**
 * Parses `vsock://CID:PORT` or `hvsock://VMID/SERVICEID` into the options
 * connect() and listen() take: `{ cid, port }` or `{ vmId, serviceId }`.
 * CID names: any, local, loopback, host, hypervisor; PORT may be `any`
 * (an ephemeral port when listening). VMID names: the keys of VmId, any
 * case. A numeric SERVICEID is a vsock port in the VSOCK template.
 * Throws ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE naming `name`.
 *
 * @param text - The URI.
 * @param name - The argument name errors say.
 * @returns `{ cid, port }`, `{ vmId, serviceId }` or a hybrid `{ udsPath, port | serviceId }`.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`.
 * @example
 * ```js
 * hvsock.parseAddress('vsock://host:5000'); // { cid: 2, port: 5000 }
 * hvsock.parseAddress('hvsock://parent/5000'); // { vmId: 'a42e7cda-…', serviceId: '00001388-facb-11e6-bd58-64006a7986d3' }
 * ```
 */
export function parseAddress(text: unknown, name = 'address'): ParsedAddress {
  if (typeof text !== 'string') throw invalidArgType(name, `of type string (${SHAPE})`, text);
  const match = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(text);
  if (!match) throw invalidArgValue(name, text, SYNTAX);
  const scheme = match[1].toLowerCase();
  if (scheme === 'vsock') return parseVsock(match[2], text, name);
  if (scheme === 'hvsock') return parseHvsock(match[2], text, name);
  throw invalidArgValue(name, text, `has scheme "${match[1]}:" but ${SYNTAX}`);
}

function checkUint32(value: unknown, field: string, address: unknown, name: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= UINT32_MAX) return value;
  throw invalidArgValue(name, address, `has ${field} ${show(value)}: it must be an integer 0..${UINT32_MAX}`);
}

/**
 * The URI for an address: `vsock://CID:PORT` when it has a cid, else
 * `hvsock://VMID/SERVICEID` (canonical GUIDs). A missing half is taken from
 * the other form where the VSOCK template allows (serviceId → port, port →
 * serviceId). Takes the objects parseAddress returns and the ones
 * `server.address()` / sockets report, so round trips are exact.
 *
 * @param address - An address object (options, parseAddress()'s result, server.address()).
 * @param name - The argument name errors say.
 * @returns The URI.
 * @throws TypeError for an object that is no address.
 */
export function formatAddress(address: AddressOptions, name = 'address'): string {
  if (address === null || typeof address !== 'object') throw invalidArgType(name, 'of type object', address);
  const { cid, port, vmId, serviceId, udsPath } = address;
  if (udsPath !== undefined) {
    if (typeof udsPath !== 'string' || udsPath === '') throw invalidArgValue(name, address, 'has an empty or non-string udsPath');
    // server.address() reports port -1 for an OpenVMM service GUID.
    if (port !== undefined && !(port === -1 && serviceId !== undefined))
      return formatHybrid({ udsPath, port: checkUint32(port, 'port', address, name), serviceId: '' });
    if (serviceId !== undefined) return formatHybrid({ udsPath, serviceId: parseGuid(serviceId, `${name}.serviceId`) });
    throw invalidArgValue(name, address, 'has a udsPath but neither port nor serviceId');
  }
  if (cid !== undefined) {
    const checkedCid = checkUint32(cid, 'cid', address, name);
    let checkedPort: number;
    if (port !== undefined) checkedPort = checkUint32(port, 'port', address, name);
    else if (serviceId !== undefined) checkedPort = portFromServiceId(parseGuid(serviceId, `${name}.serviceId`));
    else throw invalidArgValue(name, address, 'has a cid but neither port nor serviceId');
    return `vsock://${checkedCid}:${checkedPort}`;
  }
  if (vmId !== undefined) {
    const checkedVmId = parseGuid(vmId, `${name}.vmId`);
    let checkedService: string;
    if (serviceId !== undefined) checkedService = parseGuid(serviceId, `${name}.serviceId`);
    else if (port !== undefined) checkedService = serviceIdFromPort(checkUint32(port, 'port', address, name));
    else throw invalidArgValue(name, address, 'has a vmId but neither serviceId nor port');
    return `hvsock://${checkedVmId}/${checkedService}`;
  }
  throw invalidArgValue(name, address, 'must have a cid or a vmId');
}

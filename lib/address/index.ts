// Addressing: well-known VM ids, the VSOCK service-id template, and the
// mapping of { vmId, serviceId } onto Linux { cid, port }.
import type * as net from 'node:net';
import { HvsockError, invalidArgType, invalidArgValue, outOfRange, type ErrorAddress } from '../errors';
import { parseGuid } from './guid';

/** Well-known Hyper-V VM ids (HV_GUID_*), canonical lowercase. */
export const VmId = Object.freeze({
  /**
   * Listen: accept connections from any partition. Connect: the parent
   * partition (HV_GUID_ZERO, as Microsoft's Hyper-V sockets guide has a VM
   * reach its host); on Linux that is CID 2.
   */
  WILDCARD: '00000000-0000-0000-0000-000000000000',
  /** HV_GUID_ZERO, the same GUID as WILDCARD: any partition when listening, the parent when connecting. */
  ZERO: '00000000-0000-0000-0000-000000000000',
  /** Reserved. */
  BROADCAST: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  /** Listen: accept connections from child partitions (VMs of this host). */
  CHILDREN: '90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd',
  /** Connect to the own partition. */
  LOOPBACK: 'e0e16197-dd56-4a10-9195-5ee7a155a838',
  /** Connect to the parent partition (from a VM: its host). */
  PARENT: 'a42e7cda-d03f-480c-9cc2-a4de20abb878',
  /** A silo's host partition. */
  SILOHOST: '36bd0c5c-7276-4223-88ba-7d03b654c568',
});

/** Well-known Linux vsock context ids (VMADDR_CID_*). */
export const Cid = Object.freeze({
  /** Bind: any local CID. */
  ANY: 0xffffffff,
  /** The hypervisor (VMADDR_CID_HYPERVISOR). */
  HYPERVISOR: 0,
  /** Local loopback (needs vsock_loopback). */
  LOCAL: 1,
  /** The host, seen from a guest. */
  HOST: 2,
});

/** Bind to this port for an ephemeral one (VMADDR_PORT_ANY). */
export const PORT_ANY = 0xffffffff;

const UINT32_MAX = 0xffffffff;
// Service ids of the form PPPPPPPP-facb-11e6-bd58-64006a7986d3 stand for vsock port P.
const VSOCK_TEMPLATE_SUFFIX = '-facb-11e6-bd58-64006a7986d3';

/** `value` as a u32 (a port or CID), or Node's typed TypeError/RangeError naming `name`. */
export function checkUint32(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
    throw outOfRange(name, `an integer >= 0 and <= ${UINT32_MAX}`, value);
  }
  return value;
}

/** The service id that stands for vsock port `port` (Hyper-V's VSOCK template). *
 * @param port - An unsigned 32-bit port number.
 * @returns The service id, lowercase.
 * @throws TypeError / RangeError for anything but an integer 0..4294967295.
 * @example
 * ```js
 * hvsock.serviceIdFromPort(5000); // '00001388-facb-11e6-bd58-64006a7986d3'
 * ```
 */
export function serviceIdFromPort(port: number): string {
  checkUint32(port, 'port');
  return port.toString(16).padStart(8, '0') + VSOCK_TEMPLATE_SUFFIX;
}

/** True when `serviceId` is a GUID in the VSOCK template (so it names a vsock port). */
export function isVsockServiceId(serviceId: string): boolean {
  return parseGuid(serviceId, 'serviceId').endsWith(VSOCK_TEMPLATE_SUFFIX);
}

/**
 * The vsock port a template service id stands for. Throws
 * ERR_HVSOCK_UNSUPPORTED_ADDRESS for a service id outside the template.
 */
export function portFromServiceId(serviceId: string): number {
  const id = parseGuid(serviceId, 'serviceId');
  if (!id.endsWith(VSOCK_TEMPLATE_SUFFIX)) {
    throw new HvsockError(
      'ERR_HVSOCK_UNSUPPORTED_ADDRESS',
      `service id ${id} is not in the VSOCK template (xxxxxxxx${VSOCK_TEMPLATE_SUFFIX}), so it has no ` +
        'vsock port: on Linux use serviceIdFromPort(port) or { port }',
    );
  }
  return parseInt(id.slice(0, 8), 16);
}

/** The well-known VM id a CID stands for, if any. */
export function vmIdFromCid(cid: number): string | undefined {
  if (cid === Cid.ANY) return VmId.WILDCARD;
  if (cid === Cid.LOCAL) return VmId.LOOPBACK;
  if (cid === Cid.HOST) return VmId.PARENT;
  return undefined;
}

/** What a caller can pass to address a socket: GUIDs, raw vsock numbers, or a mix. */
export interface AddressOptions {
  /** The partition: a GUID, e.g. VmId.PARENT. */
  vmId?: string;
  /** The service: a GUID, e.g. serviceIdFromPort(5000). */
  serviceId?: string;
  /** Linux: the context id (instead of vmId). */
  cid?: number;
  /** Linux: the port (instead of serviceId). */
  port?: number;
  /**
   * Hybrid vsock (Firecracker, Cloud Hypervisor, ...): the VMM's Unix socket,
   * with `port` or `serviceId` naming the guest service (lib/hybrid/).
   */
  udsPath?: string;
}

/** A fully resolved endpoint: Linux numbers plus their Hyper-V names. */
export interface Endpoint {
  /** The context id. */
  cid: number;
  /** The vsock port. */
  port: number;
  /** The VM id the CID stands for (well-known CIDs only). */
  vmId: string | undefined;
  /** The service id the port stands for (VSOCK template). */
  serviceId: string;
}

/** The URI form used in messages and by parseAddress: vsock://CID:PORT. */
export function formatEndpoint(endpoint: Pick<Endpoint, 'cid' | 'port'>): string {
  return `vsock://${endpoint.cid}:${endpoint.port}`;
}

/** The address fields copied onto errors for an endpoint. */
export function errorAddress(endpoint: Endpoint): ErrorAddress {
  return {
    uri: formatEndpoint(endpoint),
    cid: endpoint.cid,
    port: endpoint.port,
    vmId: endpoint.vmId,
    serviceId: endpoint.serviceId,
  };
}

/** The endpoint for a kernel-reported { cid, port }. */
export function endpointOf(cid: number, port: number): Endpoint {
  return { cid, port, vmId: vmIdFromCid(cid), serviceId: serviceIdFromPort(port) };
}

function cidFromVmId(vmId: string, role: 'connect' | 'listen', name: string): number {
  switch (vmId) {
    case VmId.WILDCARD: // = ZERO
      // Microsoft's guide connects a VM to its host with HV_GUID_ZERO.
      return role === 'listen' ? Cid.ANY : Cid.HOST;
    case VmId.CHILDREN:
      if (role === 'listen') return Cid.ANY;
      throw invalidArgValue(name, vmId, 'names no single partition to connect to (use PARENT, LOOPBACK or a cid)');
    case VmId.LOOPBACK:
      return Cid.LOCAL;
    case VmId.PARENT:
      return Cid.HOST;
    default:
      throw new HvsockError(
        'ERR_HVSOCK_UNSUPPORTED_ADDRESS',
        `VM id ${vmId} has no vsock CID on Linux: only WILDCARD (ZERO), CHILDREN, LOOPBACK and PARENT map ` +
          'onto vsock; address other VMs by { cid, port }',
      );
  }
}

/**
 * Resolves user address options onto a Linux endpoint.
 * `listen` defaults to any CID and an ephemeral port; `connect` needs both.
 */
export function resolveVsockAddress(options: unknown, role: 'connect' | 'listen', name = 'options'): Endpoint {
  if (options === null || typeof options !== 'object') throw invalidArgType(name, 'of type object', options);
  const { vmId, serviceId, cid, port } = options as AddressOptions;
  if (vmId !== undefined && cid !== undefined) {
    throw invalidArgValue(name, options, 'must give either vmId or cid, not both');
  }
  if (serviceId !== undefined && port !== undefined) {
    throw invalidArgValue(name, options, 'must give either serviceId or port, not both');
  }

  let resolvedCid: number;
  if (cid !== undefined) resolvedCid = checkUint32(cid, `${name}.cid`);
  else if (vmId !== undefined) resolvedCid = cidFromVmId(parseGuid(vmId, `${name}.vmId`), role, `${name}.vmId`);
  else if (role === 'listen') resolvedCid = Cid.ANY;
  else throw invalidArgType(`${name}.vmId`, 'a GUID string (or give options.cid)', vmId);

  let resolvedPort: number;
  if (port !== undefined) resolvedPort = checkUint32(port, `${name}.port`);
  else if (serviceId !== undefined) resolvedPort = portFromServiceId(parseGuid(serviceId, `${name}.serviceId`));
  else if (role === 'listen') resolvedPort = PORT_ANY;
  else throw invalidArgType(`${name}.serviceId`, 'a GUID string (or give options.port)', serviceId);

  return endpointOf(resolvedCid, resolvedPort);
}

const ADDRESS_BYTES = 40;

/** The 40-byte layout of struct hvsock_addr the native layer reads. */
export function encodeEndpoint(endpoint: Pick<Endpoint, 'cid' | 'port'>): Uint8Array {
  const bytes = new Uint8Array(ADDRESS_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, endpoint.cid, true);
  view.setUint32(4, endpoint.port, true);
  return bytes;
}

/** A buffer for the native layer to write an address into. */
export function addressBuffer(): Uint8Array {
  return new Uint8Array(ADDRESS_BYTES);
}

/** Reads the endpoint the native layer wrote into an address buffer. */
export function decodeEndpoint(bytes: Uint8Array): Endpoint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return endpointOf(view.getUint32(0, true), view.getUint32(4, true));
}

/** The address of one end of a vsock connection, as address() reports it. */
export interface VsockAddressInfo extends net.AddressInfo {
  /** The context id. */
  cid: number;
  /** The port. */
  port: number;
  /** The VM id the CID stands for (well-known CIDs only). */
  vmId: string | undefined;
  /** The port as a service id (VSOCK template). */
  serviceId: string;
}

/** address()-style info for an endpoint: `address` is the CID as text, family 'vsock'. */
export function describeEndpoint(endpoint: Endpoint): VsockAddressInfo {
  return { address: String(endpoint.cid), family: 'vsock', ...endpoint };
}

// Windows addressing: an endpoint is { vmId, serviceId } as given (AF_HYPERV
// routes by GUID); Linux's { cid, port } has no meaning here.
import type * as net from 'node:net';
import { VmId, isVsockServiceId, portFromServiceId, serviceIdFromPort } from '../address/index';
import { HvsockError, invalidArgType, type ErrorAddress } from '../errors';
import { guidFromBytes, guidToBytes, parseGuid } from '../address/guid';

/** A Hyper-V socket endpoint (canonical GUIDs). */
export interface HvEndpoint {
  vmId: string;
  serviceId: string;
}

/** address() of a Hyper-V socket or server: `address` is the VM id, family 'hyperv'. */
export interface HyperVAddressInfo extends Omit<net.AddressInfo, 'port'> {
  /** Always 'hyperv'. */
  family: 'hyperv';
  /** The VM id (the partition). */
  vmId: string;
  /** The service id. */
  serviceId: string;
  /** The vsock port for a VSOCK-template service id (Linux guests use it), else undefined. */
  port: number | undefined;
}

export function describeHvEndpoint(endpoint: HvEndpoint): HyperVAddressInfo {
  const port = isVsockServiceId(endpoint.serviceId) ? portFromServiceId(endpoint.serviceId) : undefined;
  return { address: endpoint.vmId, family: 'hyperv', port, ...endpoint };
}

export function formatHvEndpoint(endpoint: HvEndpoint): string {
  return `hvsock://${endpoint.vmId}/${endpoint.serviceId}`;
}

export function hvErrorAddress(endpoint: HvEndpoint): ErrorAddress {
  return { uri: formatHvEndpoint(endpoint), vmId: endpoint.vmId, serviceId: endpoint.serviceId };
}

/**
 * Resolves user address options for AF_HYPERV. `listen` defaults vmId to
 * WILDCARD; both roles need a serviceId (Hyper-V has no ephemeral services).
 */
export function resolveHyperVAddress(options: unknown, role: 'connect' | 'listen', name = 'options'): HvEndpoint {
  if (options === null || typeof options !== 'object') throw invalidArgType(name, 'of type object', options);
  const { vmId, serviceId, cid, port } = options as { vmId?: unknown; serviceId?: unknown; cid?: unknown; port?: unknown };
  if (cid !== undefined || port !== undefined) {
    throw new HvsockError(
      'ERR_HVSOCK_UNSUPPORTED_ADDRESS',
      `${name}: { cid, port } addresses are Linux AF_VSOCK only; on Windows give { vmId, serviceId } ` +
        "(a Linux guest's vsock port P is serviceIdFromPort(P))",
    );
  }
  let resolvedVmId: string;
  if (vmId !== undefined) resolvedVmId = parseGuid(vmId, `${name}.vmId`);
  else if (role === 'listen') resolvedVmId = VmId.WILDCARD;
  else throw invalidArgType(`${name}.vmId`, 'a GUID string', vmId);
  if (serviceId === undefined) throw invalidArgType(`${name}.serviceId`, 'a GUID string', serviceId);
  return { vmId: resolvedVmId, serviceId: parseGuid(serviceId, `${name}.serviceId`) };
}

const ADDRESS_BYTES = 40;

/**
 * struct hvsock_addr for the native layer: the two GUIDs in Windows byte
 * order. The port field carries the VSOCK-template port, which only the
 * test stand-in (AF_INET) reads; AF_HYPERV ignores it.
 */
export function encodeHvEndpoint(endpoint: HvEndpoint): Uint8Array {
  const bytes = new Uint8Array(ADDRESS_BYTES);
  if (isVsockServiceId(endpoint.serviceId)) {
    new DataView(bytes.buffer).setUint32(4, portFromServiceId(endpoint.serviceId), true);
  }
  bytes.set(guidToBytes(endpoint.vmId), 8);
  bytes.set(guidToBytes(endpoint.serviceId), 24);
  return bytes;
}

/** The endpoint the native layer wrote; for the stand-in, the TCP port as a template service id. */
export function decodeHvEndpoint(bytes: Uint8Array, standIn = false): HvEndpoint {
  if (standIn) {
    const port = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
    return { vmId: VmId.LOOPBACK, serviceId: serviceIdFromPort(port) };
  }
  return { vmId: guidFromBytes(bytes.subarray(8, 24)), serviceId: guidFromBytes(bytes.subarray(24, 40)) };
}

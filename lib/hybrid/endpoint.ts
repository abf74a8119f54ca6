// Hybrid vsock endpoints: a VMM's Unix socket plus a guest port or service id
// (Firecracker, Cloud Hypervisor, vhost-device-vsock, OpenVMM). The host side
// is that Unix socket, never an AF_VSOCK socket, so nothing here needs the
// native addon. One job: validate once, and derive the wire forms (the
// CONNECT line, the PATH_<port> listener path, the URI) from the result.
import * as path from 'node:path';
import { checkUint32, isVsockServiceId, portFromServiceId, serviceIdFromPort } from '../address/index';
import { invalidArgType, invalidArgValue, outOfRange, type ErrorAddress } from '../errors';
import { isGuid, parseGuid } from '../address/guid';

/** Options naming a hybrid endpoint (connect() and listen() take them). */
export interface HybridAddressOptions {
  /** The VMM's vsock Unix socket (Firecracker's `uds_path`, vhost-device-vsock's `--uds-path`). */
  udsPath: string;
  /** The guest's vsock port (connect), or the port guests connect to (listen). */
  port?: number;
  /** A service id instead of a port: VSOCK-template ids mean their port; other GUIDs are OpenVMM's Hyper-V form. */
  serviceId?: string;
}

/** A validated hybrid endpoint. */
export interface HybridEndpoint {
  udsPath: string;
  /** The vsock port; undefined for a service id outside the VSOCK template (OpenVMM only). */
  port: number | undefined;
  /** The service id: the VSOCK-template id of the port, or the GUID given. */
  serviceId: string;
}

const UINT32_MAX = 0xffffffff;
const MAX_TIMEOUT_MS = 0x7fffffff;
/** Kata's handshake timeout; the VMMs give up on a silent guest sooner (Firecracker 2 s). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** True when `options` names a hybrid endpoint (has `udsPath`), so the dispatchers route it here. */
export function isHybridAddress(options: unknown): options is HybridAddressOptions {
  return options !== null && typeof options === 'object' && (options as { udsPath?: unknown }).udsPath !== undefined;
}

/** Validates a hybrid endpoint; throws Node-style typed errors naming `name`. */
export function resolveHybridAddress(options: HybridAddressOptions, name = 'options'): HybridEndpoint {
  const { udsPath, port, serviceId, cid, vmId } = options as HybridAddressOptions & { cid?: unknown; vmId?: unknown };
  if (typeof udsPath !== 'string') throw invalidArgType(`${name}.udsPath`, 'of type string', udsPath);
  if (udsPath === '' || udsPath.includes('\0')) {
    throw invalidArgValue(`${name}.udsPath`, udsPath, 'must be a non-empty path without NUL bytes');
  }
  if (cid !== undefined || vmId !== undefined) {
    throw invalidArgValue(name, options, 'names the guest by the VMM socket (udsPath): cid and vmId do not apply');
  }
  if (port !== undefined && serviceId !== undefined) {
    throw invalidArgValue(name, options, 'must give either serviceId or port, not both');
  }
  if (port !== undefined) {
    checkUint32(port, `${name}.port`);
    return { udsPath, port, serviceId: serviceIdFromPort(port) };
  }
  if (serviceId === undefined) {
    throw invalidArgType(`${name}.port`, 'of type number (or give options.serviceId)', port);
  }
  const id = parseGuid(serviceId, `${name}.serviceId`);
  return { udsPath, port: isVsockServiceId(id) ? portFromServiceId(id) : undefined, serviceId: id };
}

/** Validates the handshake timeout (connectTimeout on a hybrid endpoint), in ms. */
export function pickHandshakeTimeout(value: unknown, name = 'options.connectTimeout'): number {
  if (value === undefined) return DEFAULT_HANDSHAKE_TIMEOUT;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MS) {
    throw outOfRange(name, `an integer >= 1 and <= ${MAX_TIMEOUT_MS}`, value);
  }
  return value;
}

// vsock-only settings would silently do nothing on a Unix socket: say so.
const VSOCK_ONLY = ['bufferSize', 'bufferMinSize', 'bufferMaxSize', 'cid', 'vmId'] as const;

/** Throws for options that only an AF_VSOCK socket has. */
export function rejectVsockOnly(options: object, name = 'options'): void {
  for (const key of VSOCK_ONLY) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) {
      throw invalidArgValue(`${name}.${key}`, value, 'does not apply to a hybrid vsock endpoint (udsPath): the host side is a Unix socket');
    }
  }
}

/** What goes after CONNECT / after the `_` of a listener path: the port, else the GUID. */
export function serviceText(endpoint: HybridEndpoint): string {
  return endpoint.port !== undefined ? String(endpoint.port) : endpoint.serviceId;
}

/** The handshake request: `CONNECT <port>\n` (or `CONNECT <GUID>\n`, OpenVMM). */
export function connectLine(endpoint: HybridEndpoint): string {
  return `CONNECT ${serviceText(endpoint)}\n`;
}

/** Where the VMM connects for a guest-initiated connection: `<udsPath>_<port>` or `<udsPath>_<GUID>`. */
export function listenerPath(endpoint: HybridEndpoint): string {
  return `${endpoint.udsPath}_${serviceText(endpoint)}`;
}

/**
 * The URI: `hvsock://<absolute path>:<port or GUID>`, Kata's form. Our
 * `hvsock://VMID/SERVICEID` never has an empty VM id, so a path (which starts
 * with `/`) cannot be mistaken for it. Relative paths are made absolute;
 * absolute ones are kept as given (not normalized), so URIs round-trip.
 */
export function formatHybrid(endpoint: Pick<HybridEndpoint, 'udsPath'> & { port?: number; serviceId: string }): string {
  const service = endpoint.port !== undefined ? String(endpoint.port) : endpoint.serviceId;
  const udsPath = path.isAbsolute(endpoint.udsPath) ? endpoint.udsPath : path.resolve(endpoint.udsPath);
  return `hvsock://${udsPath}:${service}`;
}

/** The address fields copied onto errors. */
export function hybridErrorAddress(endpoint: HybridEndpoint, hint?: string): ErrorAddress {
  return { uri: formatHybrid(endpoint), port: endpoint.port, serviceId: endpoint.serviceId, udsPath: endpoint.udsPath, hint };
}

/**
 * Parses the part after `hvsock://` when it is a path (starts with `/`):
 * `<absolute path>:<port or GUID>`. The port or GUID follows the last colon,
 * so paths may contain colons. Returns the options connect()/listen() take.
 */
export function parseHybridUri(
  rest: string,
  text: string,
  name: string,
): { udsPath: string; port: number } | { udsPath: string; serviceId: string } {
  const colon = rest.lastIndexOf(':');
  if (colon < 0) throw invalidArgValue(name, text, 'must end in :PORT or :SERVICEID (hvsock:///path/to/vmm.sock:PORT)');
  const udsPath = rest.slice(0, colon);
  const service = rest.slice(colon + 1);
  if (udsPath === '/' || udsPath === '') throw invalidArgValue(name, text, 'has no socket path before :PORT');
  if (/^\d{1,10}$/.test(service) && Number(service) <= UINT32_MAX) return { udsPath, port: Number(service) };
  if (isGuid(service)) return { udsPath, serviceId: parseGuid(service) };
  throw invalidArgValue(name, text, `has service "${service}" after the socket path: use a port 0..${UINT32_MAX} or a service GUID`);
}

// Error construction in Node's own shapes, so callers can branch on `code`
// exactly as they do for node:net.
import { getSystemErrorName } from 'node:util';
import { windowsHint } from './hints';

/** A system error as Node raises it, with the vsock/hvsock address attached. */
export interface HvsockSystemError extends Error {
  /** The error's name as Node gives it: 'ECONNRESET', 'ENODEV', ... */
  code: string;
  /** The negative libuv error number, as on Node system errors. */
  errno: number;
  /** The call that failed: 'connect', 'bind', 'listen', 'socket', 'read', 'write', ... */
  syscall: string;
  /** The address as a URI (`vsock://1:5000`, `hvsock://<vmId>/<serviceId>`). */
  address?: string;
  /** The context id of the address the call was for (vsock). */
  cid?: number;
  /** Its port. */
  port?: number;
  /** Its VM id. */
  vmId?: string;
  /** Its service id. */
  serviceId?: string;
  /** Hybrid vsock (lib/hybrid/): the VMM's Unix socket. */
  udsPath?: string;
  /** What to do next, where there is a known answer. */
  hint?: string;
  /** Windows: the raw WSA* / ERROR_* code (libuv maps many to UNKNOWN). */
  systemCode?: number;
}

/** Address fields copied onto errors. */
export interface ErrorAddress {
  uri: string;
  cid?: number;
  port?: number;
  vmId?: string;
  serviceId?: string;
  /** Hybrid vsock: the VMM's Unix socket. */
  udsPath?: string;
  /** A hint that overrides the generic one (the hybrid transport knows better what a reset means). */
  hint?: string;
}

/** Stable library error codes (beyond Node's own). */
export type HvsockErrorCode =
  | 'ERR_HVSOCK_UNSUPPORTED_ADDRESS'
  | 'ERR_HVSOCK_UNSUPPORTED_PLATFORM'
  | 'ERR_HVSOCK_NO_ADOPTION'
  | 'ERR_HVSOCK_SOCKET_NOT_REUSABLE'
  | 'ERR_HVSOCK_BAD_FD'
  | 'ERR_HVSOCK_SYSTEMD_ENV'
  | 'ERR_HVSOCK_DISCOVERY'
  | 'ERR_HVSOCK_MESSAGE_TOO_LARGE'
  | 'ERR_HVSOCK_MESSAGE_TRUNCATED'
  | 'ERR_HVSOCK_HANDSHAKE'
  | 'ERR_SERVER_ALREADY_LISTEN'
  | 'ERR_SERVER_NOT_RUNNING'
  | 'ERR_SOCKET_CLOSED';

/** Library errors: misuse or unsupported requests, with a stable `code`. */
export class HvsockError extends Error {
  /** The stable ERR_HVSOCK_* (or Node ERR_*) code: match on it, not on the message. */
  readonly code: HvsockErrorCode;
  constructor(code: HvsockErrorCode, message: string) {
    super(message);
    this.name = 'HvsockError';
    this.code = code;
  }
}

// Where users get stuck, by (syscall, code): the next step to take.
function hintFor(syscall: string, code: string, address?: ErrorAddress): string | undefined {
  if (address?.hint !== undefined) return address.hint;
  if (process.platform === 'win32') return windowsHint(syscall, code); // AF_HYPERV: lib/hints.ts
  if (code === 'EAFNOSUPPORT') {
    return 'this kernel has no vsock support (AF_VSOCK): load the vsock module, or run inside a VM with a vsock device';
  }
  if (code === 'EADDRNOTAVAIL' && address?.cid === 1) {
    return 'CID 1 (local loopback) needs the vsock_loopback kernel module: modprobe vsock_loopback';
  }
  if (code === 'ENODEV') {
    return 'no vsock transport reaches this CID: is the VM running with a vsock device, and is the CID right?';
  }
  if (syscall === 'connect' && (code === 'ECONNRESET' || code === 'ECONNREFUSED')) {
    return 'nothing is listening on that port (vsock reports this as a reset)';
  }
  if (code === 'EACCES' && syscall === 'bind') {
    return 'binding this port needs privileges (ports below 1024 need CAP_NET_BIND_SERVICE)';
  }
  return undefined;
}

/**
 * Builds an error from a negative status returned by the native layer.
 * Message: `${syscall} ${code} ${address}` like Node's ExceptionWithHostPort.
 */
export function systemError(status: number, syscall: string, address?: ErrorAddress, systemCode?: number): HvsockSystemError {
  let code: string;
  try {
    code = getSystemErrorName(status);
  } catch {
    code = 'UNKNOWN';
  }
  const hint = hintFor(syscall, code, address);
  let message = `${syscall} ${code}`;
  if (address) message += ` ${address.uri}`;
  if (hint) message += ` (${hint})`;
  const error = new Error(message) as HvsockSystemError;
  error.code = code;
  error.errno = status;
  error.syscall = syscall;
  if (address) {
    error.address = address.uri;
    if (address.cid !== undefined) error.cid = address.cid;
    if (address.port !== undefined) error.port = address.port;
    if (address.vmId !== undefined) error.vmId = address.vmId;
    if (address.serviceId !== undefined) error.serviceId = address.serviceId;
    if (address.udsPath !== undefined) error.udsPath = address.udsPath;
  }
  if (hint) error.hint = hint;
  if (systemCode !== undefined) error.systemCode = systemCode;
  return error;
}

interface CodedTypeError extends TypeError {
  code: string;
}
interface CodedRangeError extends RangeError {
  code: string;
}

/**
 * `value` as text for a message. Never throws: arguments may be anything,
 * including bigints (which JSON.stringify rejects) and objects without a
 * prototype (which String() rejects), and a typed error must still come out.
 */
export function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    try {
      return String(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return `an instance of ${typeof name === 'string' && name ? name : 'Object'}`;
  }
  let shown = show(value);
  if (shown.length > 40) shown = `${shown.slice(0, 37)}...`;
  return `type ${typeof value} (${shown})`;
}

/** Node's ERR_INVALID_ARG_TYPE. */
export function invalidArgType(name: string, expected: string, actual: unknown): CodedTypeError {
  const error = new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`) as CodedTypeError;
  error.code = 'ERR_INVALID_ARG_TYPE';
  return error;
}

/** Node's ERR_INVALID_ARG_VALUE. */
export function invalidArgValue(name: string, value: unknown, reason: string): CodedTypeError {
  let shown = show(value);
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  const error = new TypeError(`The argument '${name}' ${reason}. Received ${shown}`) as CodedTypeError;
  error.code = 'ERR_INVALID_ARG_VALUE';
  return error;
}

/** Node's ERR_OUT_OF_RANGE. */
export function outOfRange(name: string, range: string, value: unknown): CodedRangeError {
  const error = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`) as CodedRangeError;
  error.code = 'ERR_OUT_OF_RANGE';
  return error;
}

/** net's ERR_SERVER_ALREADY_LISTEN, for every server kind. */
export function alreadyListening(): HvsockError {
  return new HvsockError('ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
}

/** The stream error for a write after end(), as Node's streams raise it. */
export function writeAfterEnd(): Error & { code: string } {
  return Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' });
}

/**
 * A failed syscall on an adopted descriptor, in Node's shape but naming the
 * fd instead of an address (`getsockname EBADF fd 9`).
 */
export function fdError(status: number, syscall: string, fd: number): HvsockSystemError & { fd: number } {
  const error = systemError(status, syscall) as HvsockSystemError & { fd: number };
  error.message = `${syscall} ${error.code} fd ${fd}`;
  if (error.code === 'EBADF') error.hint = 'not an open descriptor in this process';
  error.fd = fd;
  return error;
}

/** A discovery failure; `cause` holds the underlying error (ENOENT, exit code, ...). */
export function discoveryError(message: string, cause?: unknown): HvsockError {
  const error = new HvsockError('ERR_HVSOCK_DISCOVERY', message);
  if (cause !== undefined) (error as { cause?: unknown }).cause = cause;
  return error;
}

// The normalise-once step, as Node's net does in normalizeArgs(): connect()
// and listen() arguments are validated here, in one place and one order, into
// a typed request. The mechanisms below (lib/linux/, lib/win/, lib/hybrid/)
// take the request as given.
import { resolveVsockAddress, type AddressOptions, type Endpoint } from './address/index';
import { parseAddress } from './address/uri';
import { HvsockError, invalidArgType, invalidArgValue, outOfRange } from './errors';
import { isHybridAddress, type HybridAddressOptions } from './hybrid/endpoint';
import { pickIoPath, type IoPath } from './io-path';
import { pickRetryOptions, type RetryOptions, type RetryPolicy } from './retry';
import { pickBufferSettings, pickConnectTimeout, type ConnectSettings, type SocketSettings } from './settings';
import { resolveHyperVAddress } from './win/address';
import { pickHyperVSettings, rejectWindowsOnly } from './win/options';

const isWindows = process.platform === 'win32';

/** Options of connect(): an address plus net-style and vsock settings. */
export interface ConnectOptions extends AddressOptions, ConnectSettings {
  /** Keep the writable side open after the peer ends (as in net). */
  allowHalfOpen?: boolean;
  /** Idle timeout in ms: 'timeout' after this long without activity (as in net). */
  timeout?: number;
  /** Destroys the socket (AbortError) when aborted, also while connecting. */
  signal?: AbortSignal;
  /**
   * Retry the connect while the peer is not there yet (lib/retry.ts): the
   * socket stays connecting and emits 'retry' ({ attempt, delay, error })
   * before each wait. `true` for the defaults.
   */
  retry?: RetryOptions | boolean;
  /**
   * I/O path: 'handle' (Node's own handles, a net.Socket) or 'poll' (a
   * uv_poll-driven stream.Duplex). Default: HVSOCK_IO, else 'handle' where
   * it works. See lib/io-path.ts.
   */
  io?: IoPath;
  /** 'stream' (default) or 'seqpacket' (message socket, lib/linux/poll/seqpacket.ts). */
  type?: 'stream' | 'seqpacket';
}

export interface ServerOptions extends SocketSettings {
  /** As net: keep accepted sockets writable after their peer ends. */
  allowHalfOpen?: boolean;
  /** As net: accepted sockets start paused (read nothing until resume()). */
  pauseOnConnect?: boolean;
  /** I/O path, as connect()'s `io` (lib/io-path.ts): 'poll' makes a PollServer. */
  io?: IoPath;
  /** 'stream' (default) or 'seqpacket': a server of SeqpacketSockets (lib/linux/poll/seqpacket.ts). */
  type?: 'stream' | 'seqpacket';
}

/** Options of server.listen(): the address to listen on (`{ port }`, `{ cid, port }`, `{ vmId, serviceId }`), buffer sizes, `backlog`. */
export interface ListenOptions extends AddressOptions, SocketSettings {
  /** Pending-connection queue length (default 4096, capped by the kernel). */
  backlog?: number;
}

/** Default backlog: large, because vsock resets (not queues) connects past it. The kernel caps it at somaxconn. */
export const DEFAULT_BACKLOG = 4096;

/** Validates the socket settings for this platform (AF_HYPERV options on Windows, buffers on Linux). */
export function pickSocketSettings(options: SocketSettings, name = 'options'): SocketSettings {
  if (isWindows) return pickHyperVSettings(options, false, name);
  rejectWindowsOnly(options, name);
  return pickBufferSettings(options, name);
}

/** Validates the socket settings plus connectTimeout. */
export function pickConnectSettings(options: ConnectSettings, name = 'options'): ConnectSettings {
  return { ...pickSocketSettings(options, name), connectTimeout: pickConnectTimeout(options, name) };
}

/** Validates connect()/createServer()'s `type` option. */
export function pickSocketType(value: unknown, name = 'options.type'): 'stream' | 'seqpacket' {
  if (value === undefined || value === 'stream') return 'stream';
  if (value === 'seqpacket') return 'seqpacket';
  throw invalidArgValue(name, value, "must be 'stream' or 'seqpacket'");
}

/** Validates the `highWaterMark` option of a message socket (connect() and createServer()); undefined: the default. */
export function pickHighWaterMark(value: unknown, name = 'options.highWaterMark'): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isSafeInteger(value) || value < 1) throw outOfRange(name, 'an integer >= 1', value);
  return value;
}

/** Seqpacket is an AF_VSOCK socket type: Windows has none. */
export function rejectWindowsSeqpacket(): void {
  if (isWindows) throw new HvsockError('ERR_HVSOCK_UNSUPPORTED_PLATFORM', "type: 'seqpacket' is a Linux AF_VSOCK socket type");
}

/** Validates listen()'s backlog (every server kind). */
export function pickBacklog(backlog: unknown = DEFAULT_BACKLOG): number {
  if (typeof backlog !== 'number') throw invalidArgType('options.backlog', 'of type number', backlog);
  if (!Number.isInteger(backlog) || backlog < 0 || backlog > 0x7fffffff) {
    throw outOfRange('options.backlog', 'an integer >= 0 and <= 2147483647', backlog);
  }
  return backlog;
}

/** Validates a listener callback (listen()'s or a server's). */
export function checkListener(name: string, listener: unknown): void {
  if (listener !== undefined && typeof listener !== 'function') throw invalidArgType(name, 'of type function', listener);
}

/** listen()'s first argument as options: a bare number is a port, a string a URI. */
export function listenTarget<T extends object>(options: T | number | string): T | ListenOptions {
  if (typeof options === 'number') return { port: options };
  if (typeof options === 'string') return parseAddress(options, 'options');
  return options;
}

/** A validated vsock listen(): where, how many pending, which settings. */
export interface VsockListenRequest {
  endpoint: Endpoint;
  backlog: number;
  settings: SocketSettings;
}

/** Validates a vsock listen()'s arguments (the handle and poll servers, listenOn()). */
export function pickListenArguments(options: ListenOptions | number | string, listeningListener: unknown): VsockListenRequest {
  const given = listenTarget(options);
  const endpoint = resolveVsockAddress(given, 'listen');
  const settings = pickSocketSettings(given);
  const backlog = pickBacklog(given.backlog);
  checkListener('listeningListener', listeningListener);
  return { endpoint, backlog, settings };
}

/** Validates connect()'s net-style options (every transport). */
export function checkNetConnectOptions(options: ConnectOptions, connectListener: unknown): void {
  checkListener('connectListener', connectListener);
  if (options.allowHalfOpen !== undefined && typeof options.allowHalfOpen !== 'boolean') {
    throw invalidArgType('options.allowHalfOpen', 'of type boolean', options.allowHalfOpen);
  }
  // Checked here, as socket.setTimeout() would, so a bad value throws
  // before a descriptor exists rather than leaving one open.
  if (options.timeout !== undefined) {
    if (typeof options.timeout !== 'number') throw invalidArgType('options.timeout', 'of type number', options.timeout);
    if (!(options.timeout >= 0)) throw outOfRange('options.timeout', '>= 0', options.timeout);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', options.signal);
  }
}

/** A validated AF_VSOCK connect (Linux): what the handle, poll and seqpacket paths take. */
export interface VsockConnectRequest {
  endpoint: Endpoint;
  settings: ConnectSettings;
  allowHalfOpen?: boolean;
  timeout?: number;
  signal?: AbortSignal;
  /** Handle-path streams only (rejected for the others here). */
  retry?: RetryPolicy;
  /** Message sockets: queued bytes at which send() returns false (undefined: the default, 64 KiB). */
  highWaterMark?: number;
}

/** One connect() call, normalised: which mechanism, and what it is given. */
export type ConnectRequest =
  | { transport: 'hybrid'; options: HybridAddressOptions }
  | { transport: 'hyperv'; io: IoPath; options: ConnectOptions }
  | { transport: 'vsock'; io: IoPath; type: 'stream' | 'seqpacket'; request: VsockConnectRequest };

/**
 * connect()'s arguments as one request. The hybrid and Windows transports
 * get the options object: their addresses are not vsock endpoints, and they
 * validate them (lib/hybrid/connect.ts, lib/win/connect.ts) with the same
 * helpers as here.
 */
export function normaliseConnect(target: ConnectOptions | string, connectListener: unknown): ConnectRequest {
  const options: ConnectOptions = typeof target === 'string' ? parseAddress(target, 'options') : target;
  if (isHybridAddress(options)) return { transport: 'hybrid', options };
  const io = pickIoPath(options?.io); // throws for 'poll' where the addon has no poll path (Windows)
  const type = pickSocketType(options?.type);
  if (isWindows) {
    if (type === 'seqpacket') rejectWindowsSeqpacket();
    return { transport: 'hyperv', io, options };
  }
  const endpoint = resolveVsockAddress(options, 'connect');
  const settings = pickConnectSettings(options);
  checkNetConnectOptions(options, connectListener);
  const retry = pickRetryOptions(options.retry);
  // The retry loop drives net's connect state machine (lib/linux/connect.ts).
  if (retry && (type === 'seqpacket' || io === 'poll')) {
    throw invalidArgValue('options.retry', options.retry, "is supported for stream sockets on the 'handle' I/O path only");
  }
  const highWaterMark = type === 'seqpacket' ? pickHighWaterMark((options as { highWaterMark?: unknown }).highWaterMark) : undefined;
  const { allowHalfOpen, timeout, signal } = options;
  return { transport: 'vsock', io, type, request: { endpoint, settings, allowHalfOpen, timeout, signal, retry, highWaterMark } };
}

/**
 * Checks a `{ cid, port }` / `{ vmId, serviceId }` address against this
 * platform's addressing rules for `role`, exactly as connect() or listen()
 * would, without making a socket: for validating user input (a command
 * line, a config file) up front. Hybrid addresses (`udsPath`) are checked
 * when connecting.
 *
 * @param address - The address, e.g. parseAddress()'s result.
 * @param role - 'connect' (the address must name one peer) or 'listen'
 *   (wildcards allowed; the service may be left out on Linux).
 * @param name - The argument name errors say.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`,
 *   RangeError `ERR_OUT_OF_RANGE`, HvsockError
 *   `ERR_HVSOCK_UNSUPPORTED_ADDRESS` (e.g. a VM id GUID on Linux, a CID on
 *   Windows).
 * @example
 * ```js
 * hvsock.checkAddress(hvsock.parseAddress('hvsock://children/5000'), 'connect'); // throws: names no single VM
 * ```
 */
export function checkAddress(address: AddressOptions, role: 'connect' | 'listen', name = 'address'): void {
  if (isHybridAddress(address)) return;
  if (process.platform === 'win32') resolveHyperVAddress(address, role, name);
  else resolveVsockAddress(address, role, name);
}

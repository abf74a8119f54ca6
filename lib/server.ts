// Servers: a bound vsock fd goes into Node's TCP(SERVER) handle and net's own
// listen/accept machinery runs it; accepted sockets become VsockSockets.
import * as net from 'node:net';
import {
  addressBuffer,
  decodeEndpoint,
  encodeEndpoint,
  errorAddress,
  resolveVsockAddress,
  type AddressOptions,
  type Endpoint,
} from './address';
import { binding, SOCKET_SEQPACKET, SOCKET_STREAM } from './binding';
import { HvsockError, invalidArgType, outOfRange, systemError, type HvsockSystemError } from './errors';
import { adoptListener, handleOf, type StreamHandle } from './handles';
import { isFdListenOptions, listenFd, type FdListenOptions } from './fd';
import { applySettings, definedOnly, pickSocketSettings, type SocketSettings } from './settings';
import { adoptAcceptedSocket, describeEndpoint, type VsockAddressInfo, type HvsockSocket, type VsockSocket } from './socket';
import { parseAddress } from './uri';
import { adoptAcceptedConnection, hyperVServerAddress, listenHyperV } from './win/server';
import { isHybridServer, listenHybrid } from './hybrid/listen';
import { isHybridAddress } from './hybrid/endpoint';

const isWindows = process.platform === 'win32'; // AF_HYPERV: lib/win/server.ts
import { pickIoPath, type IoPath } from './io-path';
import { PollServer } from './poll-server';
import { acceptPollSocket, type PollSocket } from './poll-socket';
import { acceptSeqpacket, pickSocketType, type SeqpacketSocket } from './seqpacket';

/** Default backlog: large, because vsock resets (not queues) connects past it. The kernel caps it at somaxconn. */
export const DEFAULT_BACKLOG = 4096;

export interface ServerOptions extends SocketSettings {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  /** I/O path, as connect()'s `io` (lib/io-path.ts): 'poll' makes a PollServer. */
  io?: IoPath;
  /** 'stream' (default) or 'seqpacket': a server of SeqpacketSockets (lib/seqpacket.ts). */
  type?: 'stream' | 'seqpacket';
}

/** What createServer() returns for streams: a net.Server, or a PollServer on the poll path. */
export type HvsockServer = VsockServer | PollServer<PollSocket>;
/** A server of SOCK_SEQPACKET message sockets. */
export type SeqpacketServer = PollServer<SeqpacketSocket>;

export interface ListenOptions extends AddressOptions, SocketSettings {
  /** Pending-connection queue length (default 4096, capped by the kernel). */
  backlog?: number;
}

/** A listening descriptor ready for server.listen(handle), or the error that stopped it. */
export type OpenedListener = { handle: StreamHandle; local: Endpoint } | { error: HvsockSystemError };

/** A bound, not yet listening descriptor, or the error that stopped it. */
export type BoundSocket = { fd: number; local: Endpoint } | { error: HvsockSystemError };

/**
 * socket + options + bind + getsockname. Shared with the poll path
 * (lib/poll-server.ts), which passes SOCKET_SEQPACKET for message servers.
 */
export function openBoundSocket(endpoint: Endpoint, settings: SocketSettings, type = SOCKET_STREAM): BoundSocket {
  const where = errorAddress(endpoint);
  const native = binding();
  const fd = native.socket(type);
  if (fd < 0) return { error: systemError(fd, 'socket', where) };
  const fail = (status: number, syscall: string): BoundSocket => {
    native.close(fd);
    return { error: systemError(status, syscall, where) };
  };
  const failure = applySettings(fd, settings);
  if (failure) return fail(failure.status, failure.syscall);
  // Reported as 'listen' like net does for its own bind step (EADDRINUSE).
  const bound = native.bind(fd, encodeEndpoint(endpoint));
  if (bound < 0) return fail(bound, 'listen');
  const out = addressBuffer();
  const named = native.getsockname(fd, out);
  if (named < 0) return fail(named, 'getsockname');
  return { fd, local: decodeEndpoint(out) };
}

/** socket + options + bind + adoption into a TCP(SERVER) handle. */
export function openListener(endpoint: Endpoint, settings: SocketSettings): OpenedListener {
  const bound = openBoundSocket(endpoint, settings);
  if ('error' in bound) return bound;
  const handle = adoptListener(bound.fd);
  if (typeof handle === 'number') {
    binding().close(bound.fd);
    return { error: systemError(handle, 'open', errorAddress(endpoint)) };
  }
  return { handle, local: bound.local };
}

/** Validates listen()'s backlog (also for listen({ fd }) in fd.ts). */
export function pickBacklog(backlog: unknown = DEFAULT_BACKLOG): number {
  if (typeof backlog !== 'number') throw invalidArgType('options.backlog', 'of type number', backlog);
  if (!Number.isInteger(backlog) || backlog < 0 || backlog > 0x7fffffff) {
    throw outOfRange('options.backlog', 'an integer >= 0 and <= 2147483647', backlog);
  }
  return backlog;
}

/** Validates listen() arguments. */
export function pickListenArguments(
  options: ListenOptions | number | string,
  listeningListener: unknown,
): { endpoint: Endpoint; backlog: number; settings: SocketSettings } {
  let given: ListenOptions;
  if (typeof options === 'number') given = { port: options };
  else if (typeof options === 'string') given = parseAddress(options, 'options');
  else given = options;
  const endpoint = resolveVsockAddress(given, 'listen');
  const settings = pickSocketSettings(given);
  const backlog = pickBacklog(given.backlog);
  if (listeningListener !== undefined && typeof listeningListener !== 'function') {
    throw invalidArgType('listeningListener', 'of type function', listeningListener);
  }
  return { endpoint, backlog, settings };
}

/**
 * The listen step shared by VsockServer and listenOn(): validates the
 * arguments, opens the bound descriptor and gives its handle to net's own
 * listen(handle, backlog) through `listenHandle`, with the bound endpoint.
 * Failures to bind go out as 'error' on the next tick, as net reports them.
 */
export function listenVsock(
  server: net.Server,
  options: ListenOptions | number | string,
  listeningListener: unknown,
  defaults: SocketSettings,
  listenHandle: (handle: StreamHandle, backlog: number, local: Endpoint) => void,
): void {
  const { endpoint, backlog, settings } = pickListenArguments(options, listeningListener);
  if (server.listening || handleOf(server)) {
    throw new HvsockError('ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
  }
  if (listeningListener) server.once('listening', listeningListener as () => void);
  const opened = openListener(endpoint, { ...defaults, ...definedOnly(settings) });
  if ('error' in opened) {
    process.nextTick(() => server.emit('error', opened.error));
    return;
  }
  listenHandle(opened.handle, backlog, opened.local);
}

const kLocal = Symbol('hvsock.serverLocal');

/** A net.Server listening on a vsock / Hyper-V socket address. */
export class VsockServer extends net.Server {
  private readonly settings: SocketSettings;
  /** Windows: how accepted connections do their I/O (lib/io-path.ts). */
  private readonly winIo: IoPath | undefined;
  declare [kLocal]: Endpoint | undefined;

  constructor(options?: ServerOptions, connectionListener?: (socket: VsockSocket) => void) {
    const { allowHalfOpen, pauseOnConnect } = options ?? {};
    // emit() adopts every accepted socket before listeners see it, so the
    // listener really gets a VsockSocket; net types it as a plain Socket.
    super({ allowHalfOpen, pauseOnConnect }, connectionListener as ((socket: net.Socket) => void) | undefined);
    this.settings = pickSocketSettings(options ?? {});
    this.winIo = isWindows ? pickIoPath(options?.io) : undefined;
  }

  /**
   * Listens on `{ serviceId, vmId? }` or `{ port, cid? }` (a bare number is a
   * port, a string a URI such as `vsock://any:5000`); vmId defaults to
   * WILDCARD (any CID), the port to an ephemeral one.
   * Failures ('EADDRINUSE', ...) are emitted as 'error'. `{ fd }` adopts a
   * bound or listening AF_VSOCK descriptor (the server then owns it).
   */
  override listen(options?: ListenOptions | FdListenOptions | number | string, listeningListener?: () => void): this;
  // Keeps VsockServer assignable to net.Server; arguments are checked at run time.
  override listen(...args: unknown[]): this;
  override listen(...args: unknown[]): this {
    const [options = {}, listeningListener] = args as [ListenOptions | number | string | undefined, unknown];
    // Hybrid vsock: serve <udsPath>_<port> for the VMM (lib/hybrid/listen.ts).
    const given = typeof options === 'string' ? parseAddress(options, 'options') : options;
    if (isHybridAddress(given)) {
      listenHybrid(this, given, pickBacklog((given as ListenOptions).backlog), listeningListener as () => void);
      return this;
    }
    if (isWindows) {
      listenHyperV(this, options, listeningListener, this.settings, (handle, backlog) => super.listen(handle, backlog), this.winIo);
      return this;
    }
    const listenHandle = (handle: StreamHandle, backlog: number, local: Endpoint): void => {
      this[kLocal] = local;
      super.listen(handle, backlog);
    };
    // listen({ fd }): adopt an inherited descriptor (lib/fd.ts).
    if (isFdListenOptions(options)) listenFd(this, options, pickBacklog(options.backlog), listeningListener, this.settings, listenHandle);
    else listenVsock(this, options, listeningListener, this.settings, listenHandle);
    return this;
  }

  /** `{ address, family: 'vsock', port, cid, vmId, serviceId }` while listening, else null. */
  override address(): VsockAddressInfo | null {
    // Windows returns a HyperVAddressInfo ({ address: vmId, family: 'hyperv', vmId, serviceId,
    // port? }); the declared type stays the Linux one so existing callers need no narrowing.
    if (isWindows) return hyperVServerAddress(this) as unknown as VsockAddressInfo | null;
    const local = this[kLocal];
    if (!this.listening || local === undefined) return null;
    return describeEndpoint(local);
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'connection' && args[0] instanceof net.Socket && !isHybridServer(this)) {
      if (isWindows) adoptAcceptedConnection(args[0]);
      else adoptAcceptedSocket(args[0]);
    }
    return super.emit(event, ...args);
  }
}

/** Creates a VsockServer, as net.createServer() does (a PollServer on the poll path). */
export function createServer(
  options: ServerOptions & { type: 'seqpacket' },
  connectionListener?: (socket: SeqpacketSocket) => void,
): SeqpacketServer;
export function createServer(
  options?: ServerOptions | ((socket: HvsockSocket) => void),
  connectionListener?: (socket: HvsockSocket) => void,
): HvsockServer;
export function createServer(
  options?: ServerOptions | ((socket: HvsockSocket) => void),
  connectionListener?: ((socket: HvsockSocket) => void) | ((socket: SeqpacketSocket) => void),
): HvsockServer | SeqpacketServer {
  if (typeof options === 'function') {
    connectionListener = options;
    options = undefined;
  }
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw invalidArgType('options', 'of type object', options);
  }
  // The poll path and message servers (lib/poll-server.ts, lib/seqpacket.ts).
  const type = pickSocketType(options?.type);
  if (type === 'seqpacket' && isWindows) {
    throw new HvsockError('ERR_HVSOCK_UNSUPPORTED_PLATFORM', "type: 'seqpacket' is a Linux AF_VSOCK socket type");
  }
  if (type === 'seqpacket') {
    return new PollServer(acceptSeqpacket, options, connectionListener as (socket: SeqpacketSocket) => void, SOCKET_SEQPACKET);
  }
  if (pickIoPath(options?.io) === 'poll') {
    return new PollServer(acceptPollSocket, options, connectionListener as (socket: PollSocket) => void);
  }
  return new VsockServer(options, connectionListener as (socket: VsockSocket) => void);
}

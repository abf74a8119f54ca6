// createServer(): the public server dispatcher, and VsockServer, the
// net.Server whose listen() validates its arguments once (lib/options.ts) and
// hands them to one mechanism: hybrid vsock (lib/hybrid/listen.ts), Windows
// AF_HYPERV (lib/win/server.ts), an adopted descriptor (lib/linux/fd.ts) or
// a bound AF_VSOCK socket (lib/linux/listen.ts). Accepted sockets become
// VsockSockets. The poll path and message servers are PollServers
// (lib/linux/poll/server.ts).
import * as net from 'node:net';
import { describeEndpoint, type Endpoint, type VsockAddressInfo } from './address/index';
import { parseAddress } from './address/uri';
import { SOCKET_SEQPACKET } from './binding';
import { invalidArgType } from './errors';
import type { HvsockSocket } from './connect';
import type { StreamHandle } from './handle/handles';
import { adoptAcceptedSocket, type VsockSocket } from './handle/socket';
import { isHybridAddress } from './hybrid/endpoint';
import { isHybridServer, listenHybrid } from './hybrid/listen';
import { pickIoPath, type IoPath } from './io-path';
import { isFdListenOptions, listenFd, type FdListenOptions } from './linux/fd';
import { listenVsock } from './linux/listen';
import { PollServer } from './linux/poll/server';
import { acceptPollSocket, type PollSocket } from './linux/poll/stream';
import { acceptSeqpacket, type SeqpacketSocket } from './linux/poll/seqpacket';
import {
  pickBacklog,
  pickHighWaterMark,
  pickListenArguments,
  pickSocketSettings,
  pickSocketType,
  rejectWindowsSeqpacket,
  type ListenOptions,
  type ServerOptions,
} from './options';
import type { SocketSettings } from './settings';
import { adoptAcceptedConnection, hyperVServerAddress, listenHyperV } from './win/server';

const isWindows = process.platform === 'win32'; // AF_HYPERV: lib/win/server.ts

export { DEFAULT_BACKLOG, type ListenOptions, type ServerOptions } from './options';

/** What createServer() returns for streams: a net.Server, or a PollServer on the poll path. */
export type HvsockServer = VsockServer | PollServer<PollSocket>;
/** A server of SOCK_SEQPACKET message sockets. */
export type SeqpacketServer = PollServer<SeqpacketSocket>;

const kLocal = Symbol('hvsock.serverLocal');

/** A net.Server listening on a vsock / Hyper-V socket address. */
export class VsockServer extends net.Server {
  private readonly settings: SocketSettings;
  /** Windows: how accepted connections do their I/O (lib/io-path.ts). */
  private readonly winIo: IoPath | undefined;
  /** @internal */
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
    // listen({ fd }): adopt an inherited descriptor (lib/linux/fd.ts).
    if (isFdListenOptions(options)) listenFd(this, options, pickBacklog(options.backlog), listeningListener, this.settings, listenHandle);
    else listenVsock(this, pickListenArguments(given, listeningListener), listeningListener, this.settings, listenHandle);
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

  /** @internal */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'connection' && args[0] instanceof net.Socket && !isHybridServer(this)) {
      if (isWindows) adoptAcceptedConnection(args[0]);
      else adoptAcceptedSocket(args[0]);
    }
    return super.emit(event, ...args);
  }
}

/**
 * Creates a server for vsock / Hyper-V socket connections, as
 * net.createServer() does; listen() then takes `{ port }`, `{ cid, port }`,
 * `{ vmId, serviceId }`, `{ fd }`, a hybrid `{ udsPath, port }` or a URI.
 *
 * @param options - `allowHalfOpen`, `pauseOnConnect`, buffer sizes inherited
 *   by accepted sockets, `io` (I/O path), `type` ('seqpacket' for message
 *   sockets), Windows options. May be left out.
 * @param connectionListener - Added as a listener for the 'connection' event.
 * @returns A VsockServer (a net.Server), or a PollServer on the poll path;
 *   a server of SeqpacketSockets for `type: 'seqpacket'`.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for bad
 *   options. listen() failures (`EADDRINUSE`, `EADDRNOTAVAIL`, Windows'
 *   `EACCES` for an unregistered service) are the server's 'error' event.
 * @example
 * ```js
 * const hvsock = require('hvsock');
 *
 * const server = hvsock.createServer((socket) => socket.pipe(socket)); // echo
 * server.listen({ port: 5000 }, () => console.log('listening on', server.address()));
 * ```
 */
export function createServer(
  options: ServerOptions & { type: 'seqpacket'; highWaterMark?: number },
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
  // The poll path and message servers (lib/linux/poll/).
  const type = pickSocketType(options?.type);
  if (type === 'seqpacket') {
    rejectWindowsSeqpacket();
    pickHighWaterMark((options as { highWaterMark?: unknown } | undefined)?.highWaterMark); // accepted sockets take it
    return new PollServer(acceptSeqpacket, options, connectionListener as (socket: SeqpacketSocket) => void, SOCKET_SEQPACKET);
  }
  if (pickIoPath(options?.io) === 'poll') {
    return new PollServer(acceptPollSocket, options, connectionListener as (socket: PollSocket) => void);
  }
  return new VsockServer(options, connectionListener as (socket: VsockSocket) => void);
}

// What the poll path's socket classes (PollSocket, SeqpacketSocket) share
// beyond PollConnection: the vsock address getters, net's idle timeout and
// the connect-time plumbing (validation done, descriptor opened, errors).
import type { EventEmitter } from 'node:events';
import { abortError, destroyOnAbort } from '../../abort';
import { describeEndpoint, errorAddress, type Endpoint, type VsockAddressInfo } from '../../address/index';
import { binding } from '../../binding';
import { invalidArgType, outOfRange, systemError } from '../../errors';
import type { PollConnection } from './connection';
import type { VsockConnectRequest } from '../../options';
import { applySettings, type ConnectSettings } from '../../settings';


export const kConnection = Symbol('hvsock.pollConnection');

/** The address getters of a VsockSocket, on the poll path's classes. */
export interface VsockEndpointGetters {
  /** The peer's context id. */
  readonly remoteCid: number | undefined;
  /** The peer's VM id, for the well-known CIDs (PARENT, LOOPBACK). */
  readonly remoteVmId: string | undefined;
  /** The peer's port as a service id (VSOCK template). */
  readonly remoteServiceId: string | undefined;
  /** The peer's CID as text, as net's remoteAddress. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** 'vsock' once there is a peer. */
  readonly remoteFamily: string | undefined;
  /** This end's context id as the kernel reports it (a client sees CID ANY). */
  readonly localCid: number | undefined;
  readonly localVmId: string | undefined;
  readonly localServiceId: string | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly localFamily: string | undefined;
  /** The receive buffer in bytes (SO_VM_SOCKETS_BUFFER_SIZE; a bigint past 2^53 - 1). */
  readonly vsockBufferSize: number | bigint | undefined;
  /** The connect timeout in ms as the kernel holds it (a bigint past 2^53 - 1). */
  readonly connectTimeout: number | bigint | undefined;
}

interface HasConnection {
  [kConnection]: PollConnection | null;
}

/** Defines the VsockEndpointGetters on `prototype` (whose instances hold a PollConnection). */
export function installEndpointGetters(prototype: object): void {
  const peer = (self: HasConnection): Endpoint | undefined => self[kConnection]?.peer;
  const local = (self: HasConnection): Endpoint | undefined => self[kConnection]?.localEndpoint();
  const getters: Record<keyof VsockEndpointGetters, (self: HasConnection) => unknown> = {
    remoteCid: (s) => peer(s)?.cid,
    remoteVmId: (s) => peer(s)?.vmId,
    remoteServiceId: (s) => peer(s)?.serviceId,
    remoteAddress: (s) => (peer(s) ? String(peer(s)?.cid) : undefined),
    remotePort: (s) => peer(s)?.port,
    remoteFamily: (s) => (peer(s) ? 'vsock' : undefined),
    localCid: (s) => local(s)?.cid,
    localVmId: (s) => local(s)?.vmId,
    localServiceId: (s) => local(s)?.serviceId,
    localAddress: (s) => (local(s) ? String(local(s)?.cid) : undefined),
    localPort: (s) => local(s)?.port,
    localFamily: (s) => (local(s) ? 'vsock' : undefined),
    vsockBufferSize: (s) => s[kConnection]?.bufferSize(),
    connectTimeout: (s) => s[kConnection]?.readOption((fd) => binding().getConnectTimeout(fd)),
  };
  defineGetters(prototype, getters);
}

/** Defines non-enumerable getters on `prototype`, each given the instance. */
export function defineGetters<T>(prototype: object, getters: Record<string, (self: T) => unknown>): void {
  for (const [name, get] of Object.entries(getters)) {
    Object.defineProperty(prototype, name, {
      configurable: true,
      enumerable: false,
      get(this: T) {
        return get(this);
      },
    });
  }
}

/** address() of a connected poll-path socket, as net.Socket#address(). */
export function localAddressInfo(connection: PollConnection | null): VsockAddressInfo | Record<string, never> {
  const local = connection?.localEndpoint();
  return local ? describeEndpoint(local) : {};
}

/**
 * net's idle timeout: 'timeout' is emitted after `ms` without activity
 * (touch()), 0 disables it. The timer never keeps the process alive.
 */
export class IdleTimer {
  private timer: NodeJS.Timeout | null = null;
  ms = 0;

  constructor(private readonly owner: EventEmitter) {}

  set(ms: unknown, callback?: unknown): void {
    if (typeof ms !== 'number') throw invalidArgType('msecs', 'of type number', ms);
    if (!(ms >= 0) || !Number.isFinite(ms)) throw outOfRange('msecs', 'a non-negative finite number', ms);
    if (callback !== undefined && typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
    this.ms = ms;
    if (callback) {
      if (ms === 0) this.owner.removeListener('timeout', callback as () => void);
      else this.owner.once('timeout', callback as () => void);
    }
    this.touch();
  }

  touch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.ms === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.owner.emit('timeout');
    }, this.ms);
    this.timer.unref();
  }

  clear(): void {
    this.ms = 0;
    this.touch();
  }
}

/** What connectPollPath() needs of a poll-path socket (PollSocket, SeqpacketSocket). */
export interface PollPathSocket {
  connecting: boolean;
  destroy(error?: Error): unknown;
  once(event: 'close', listener: () => void): unknown;
  attach(fd: number): void;
  setTimeout(ms: number): unknown;
  startConnect(endpoint: Endpoint, listener?: () => void): void;
}

/**
 * connect() on the poll path, for either socket kind (`make` builds one):
 * socket() + settings, then a non-blocking connect. Failures before the
 * connect starts are reported asynchronously, as net does.
 */
export function connectPollPath<S extends PollPathSocket>(
  make: () => S,
  type: number,
  request: VsockConnectRequest,
  listener?: () => void,
): S {
  const failed = (error: Error): S => {
    const socket = make();
    socket.connecting = true; // writes and sends wait, so the real error is what the caller sees
    process.nextTick(() => socket.destroy(error));
    return socket;
  };
  // Aborted already: no descriptor is ever made, so nothing reaches the peer.
  if (request.signal?.aborted) return failed(abortError(request.signal));
  const fd = openClientFd(type, request.endpoint, request.settings);
  if (fd instanceof Error) return failed(fd);
  const socket = make();
  try {
    socket.attach(fd);
  } catch (error) {
    return failed(error as Error);
  }
  if (request.signal) destroyOnAbort(socket, request.signal);
  if (request.timeout !== undefined) socket.setTimeout(request.timeout);
  socket.startConnect(request.endpoint, listener);
  return socket;
}

// socket() + settings for an outgoing poll-path connection: the fd, or the
// error to report asynchronously.
function openClientFd(type: number, endpoint: Endpoint, settings: ConnectSettings): number | Error {
  const native = binding();
  const where = errorAddress(endpoint);
  const fd = native.socket(type);
  if (fd < 0) return systemError(fd, 'socket', where);
  const failure = applySettings(fd, settings);
  if (failure) {
    native.close(fd);
    return systemError(failure.status, failure.syscall, where);
  }
  return fd;
}

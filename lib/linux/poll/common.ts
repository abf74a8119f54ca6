// What the poll path's socket classes (PollSocket, SeqpacketSocket) share
// beyond PollConnection: the vsock address getters and the connect-time
// plumbing (validation done, descriptor opened, errors). The idle timeout
// and the getter helper are lib/duplex/'s (the Windows overlapped path's too).
import { abortError, destroyOnAbort } from '../../abort';
import { describeEndpoint, errorAddress, type Endpoint, type VsockAddressInfo } from '../../address/index';
import { binding } from '../../binding';
import { systemError } from '../../errors';
import { defineGetters, type VsockEndpointGetters } from '../../duplex/getters';
import { failLater } from '../../duplex/socket';
import type { PollConnection } from './connection';
import type { VsockConnectRequest } from '../../options';
import { applySettings, type ConnectSettings } from '../../settings';

export const kConnection = Symbol('hvsock.pollConnection');

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

/** address() of a connected poll-path socket, as net.Socket#address(). */
export function localAddressInfo(connection: PollConnection | null): VsockAddressInfo | Record<string, never> {
  const local = connection?.localEndpoint();
  return local ? describeEndpoint(local) : {};
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
  const failed = (error: Error): S => failLater(make(), error);
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

// vsockAddressOf(): the vsock addresses of a connection, also through TLS.
// A TLS session (tls.connect({ socket }), a tls/https server under
// listenOn()) hands the application a new tls.TLSSocket that wraps our
// socket. It can't carry the vsock getters, and its remoteAddress reads the
// wrapped Node handle, which formats no vsock address. Node keeps the wrapped
// socket as `_parent` on both the client and the server side (Node 20-24),
// so follow that chain down to the VsockSocket. A poll-path socket is a plain
// Duplex, which TLS wraps in Node's JSStreamSocket instead (no `_parent`):
// see wrappedDuplex().
import type * as stream from 'node:stream';
import { invalidArgType } from './errors';
import { kConnection } from './linux/poll/common';
import { PollSocket } from './linux/poll/stream';
import { DuplexSocket } from './duplex/socket';
import { describeEndpoint, type VsockAddressInfo } from './address/index';
import { VsockSocket } from './handle/socket';

/** Both ends of a vsock connection, as vsockAddressOf() reports them. */
export interface VsockConnectionAddresses {
  /** This end (a connecting client sees CID ANY, as the kernel reports it). */
  local: VsockAddressInfo | undefined;
  /** The peer; undefined before the connection is established. */
  remote: VsockAddressInfo | undefined;
}

// TLS over TLS is two levels; more would be a loop or not ours.
const MAX_WRAPPING = 4;

/**
 * The Duplex a TLSSocket runs over when it isn't a net.Socket: Node keeps it
 * as JSStreamSocket#stream, reachable as tls.ssl._parent[owner_symbol]
 * (Node 20-24 internals; undefined if they change, never a throw).
 */
function wrappedDuplex(socket: object): unknown {
  const handle = (socket as { ssl?: { _parent?: unknown } }).ssl?._parent;
  if (typeof handle !== 'object' || handle === null) return undefined;
  const owner = Object.getOwnPropertySymbols(handle).find((symbol) => symbol.description === 'owner_symbol');
  const jsStreamSocket = owner === undefined ? undefined : (handle as Record<symbol, unknown>)[owner];
  return (jsStreamSocket as { stream?: unknown } | undefined)?.stream;
}

function vsockSocketUnder(socket: object): VsockSocket | DuplexSocket | undefined {
  let current: unknown = socket;
  for (let depth = 0; depth <= MAX_WRAPPING && typeof current === 'object' && current !== null; depth += 1) {
    if (current instanceof VsockSocket || current instanceof DuplexSocket) return current;
    current = (current as { _parent?: unknown })._parent ?? wrappedDuplex(current);
  }
  return undefined;
}

function complete(info: Partial<VsockAddressInfo>): VsockAddressInfo | undefined {
  return info.cid === undefined ? undefined : (info as VsockAddressInfo);
}

/**
 * The vsock addresses of `socket`: a VsockSocket, a TLS socket running over
 * one (client or server side), or an http/https request's `req.socket`.
 * Returns undefined for a socket that doesn't run over vsock.
 */
export function vsockAddressOf(socket: stream.Duplex): VsockConnectionAddresses | undefined {
  if (typeof socket !== 'object' || socket === null) throw invalidArgType('socket', 'an instance of stream.Duplex', socket);
  const vsock = vsockSocketUnder(socket);
  if (vsock === undefined) return undefined;
  // A Duplex socket: the poll path's (PollSocket), or Windows' overlapped
  // path's, whose Hyper-V ends have no CID (both undefined, as HyperVSocket's).
  if (vsock instanceof DuplexSocket) {
    const peer = vsock instanceof PollSocket ? vsock[kConnection]?.peer : undefined;
    return { local: complete(vsock.address()), remote: peer ? describeEndpoint(peer) : undefined };
  }
  return { local: complete(vsock._getsockname()), remote: complete(vsock._getpeername()) };
}

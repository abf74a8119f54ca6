// The handle path's socket: a real net.Socket subclass whose descriptor lives
// in Node's own Pipe (Linux) or TCP (Windows) handle; net runs the connecting
// state machine (early writes buffered, 'connect'/'ready', errors) itself.
// The connects that drive it live per platform (lib/linux/connect.ts,
// lib/win/connect.ts).
import * as diagnostics from 'node:diagnostics_channel';
import * as net from 'node:net';
import { describeEndpoint, type Endpoint, type VsockAddressInfo } from '../address/index';
import { nameOrNone, readName } from '../address/names';
import { binding, optionValue, VsockOption } from '../binding';
import { HvsockError } from '../errors';
import { handleOf } from './handles';

const kPeer = Symbol('hvsock.peer');
const kLocal = Symbol('hvsock.local');

/**
 * A vsock stream: a net.Socket with vsock addresses. `remoteAddress` is the
 * CID as a string, `remotePort` the vsock port, `remoteFamily` 'vsock'.
 */
export class VsockSocket extends net.Socket {
  /** @internal */
  declare [kPeer]: Endpoint | undefined;
  /** @internal */
  declare [kLocal]: Endpoint | undefined;

  /** The peer's context id. */
  get remoteCid(): number | undefined {
    return this.peerEndpoint()?.cid;
  }
  /** The peer's VM id, for the well-known CIDs (PARENT, LOOPBACK). */
  get remoteVmId(): string | undefined {
    return this.peerEndpoint()?.vmId;
  }
  /** The peer's port as a service id (VSOCK template). */
  get remoteServiceId(): string | undefined {
    return this.peerEndpoint()?.serviceId;
  }
  /** This end's context id as the kernel reports it (a client sees CID ANY). */
  get localCid(): number | undefined {
    return this.localEndpoint()?.cid;
  }
  /** This end's VM id, for the well-known CIDs (a client sees WILDCARD: the kernel reports CID ANY). */
  get localVmId(): string | undefined {
    return this.localEndpoint()?.vmId;
  }
  /** This end's port as a service id (VSOCK template). */
  get localServiceId(): string | undefined {
    return this.localEndpoint()?.serviceId;
  }

  /**
   * The connection's receive buffer in bytes as the kernel has it
   * (SO_VM_SOCKETS_BUFFER_SIZE). Named apart from net's deprecated
   * `bufferSize` (an alias of writableLength). A bigint past
   * Number.MAX_SAFE_INTEGER (the kernel holds a u64).
   */
  get vsockBufferSize(): number | bigint | undefined {
    return this.readOption((fd) => binding().getOption(fd, VsockOption.BUFFER_SIZE));
  }

  /** The connect timeout in ms as the kernel holds it (rounded up to its tick; a bigint past 2^53 - 1). */
  get connectTimeout(): number | bigint | undefined {
    return this.readOption((fd) => binding().getConnectTimeout(fd));
  }

  private readOption(read: (fd: number) => number | bigint): number | bigint | undefined {
    const handle = handleOf(this);
    return handle ? optionValue(read(handle.fd)) : undefined;
  }

  // net's remoteAddress/remotePort/remoteFamily read this.
  /** @internal */
  _getpeername(): Partial<VsockAddressInfo> {
    const peer = this.peerEndpoint();
    return peer ? describeEndpoint(peer) : {};
  }

  // net's address()/localAddress/localPort read this.
  /** @internal */
  _getsockname(): Partial<VsockAddressInfo> {
    const local = this.localEndpoint();
    return local ? describeEndpoint(local) : {};
  }

  private peerEndpoint(): Endpoint | undefined {
    return this.endpoint(kPeer, true);
  }

  private localEndpoint(): Endpoint | undefined {
    return this.endpoint(kLocal, false);
  }

  // Read on first use and kept, as net does with its _peername: an accepted
  // socket whose addresses nobody asks for costs no getpeername/getsockname
  // (and, as with net, reports none once closed if never asked before).
  private endpoint(key: typeof kPeer | typeof kLocal, peer: boolean): Endpoint | undefined {
    if (this[key] === undefined && !this.connecting) {
      const handle = handleOf(this);
      if (handle) this[key] = nameOrNone(readName(handle.fd, peer));
    }
    return this[key];
  }

  /**
   * Wraps a connected AF_VSOCK stream descriptor (inherited, or made by other
   * code), as `new net.Socket({ fd })` does for TCP. The socket owns `fd`
   * from then on. Throws ERR_HVSOCK_BAD_FD for anything else. Set by
   * lib/linux/fd.ts, which builds on this class (so this module does not
   * import it back).
   */
  declare static fromFd: (fd: number, options?: { allowHalfOpen?: boolean }) => VsockSocket;

  /** Not supported: a vsock socket connects once. Call hvsock.connect() again. */
  override connect(..._args: unknown[]): this {
    throw new HvsockError('ERR_HVSOCK_SOCKET_NOT_REUSABLE', 'an hvsock socket connects once: call hvsock.connect() for a new connection');
  }
}

/**
 * Makes a net-created socket (from an accepting server) a VsockSocket; its
 * addresses are read on first use. Servers whose handle accepts through
 * acceptVsockSockets() make VsockSockets from the start instead: changing
 * the prototype of a live object costs V8 ~1.6 µs here at native speed.
 */
export function adoptAcceptedSocket(socket: net.Socket): VsockSocket {
  return socket instanceof VsockSocket ? socket : (Object.setPrototypeOf(socket, VsockSocket.prototype) as VsockSocket);
}

/** The part of net.Server's own state that its accept callback keeps. */
interface NetServerState {
  _connections: number;
  maxConnections?: number | null;
  allowHalfOpen: boolean;
  pauseOnConnect: boolean;
}

type OnConnection = (this: unknown, status: number, clientHandle?: unknown) => void;

const serverSocketChannel = diagnostics.channel('net.server.socket');

/**
 * Makes a listening server's handle accept straight into VsockSockets: net's
 * own accept callback builds a plain net.Socket, which would then need its
 * prototype changed (adoptAcceptedSocket), about 60 µs of a 600 µs
 * connection in the TCG guest (docs/performance.md). What net's callback
 * does for a connection is done here in the same order; failures and
 * connections past maxConnections stay with net's callback (it reports
 * 'error' or drops them). Call right after net's listen(handle).
 */
export function acceptVsockSockets(server: net.Server): void {
  const handle = handleOf(server) as { onconnection?: OnConnection } | null;
  const netOnConnection = handle?.onconnection;
  if (!handle || typeof netOnConnection !== 'function') return; // emit('connection') adopts instead
  const state = server as unknown as NetServerState;
  handle.onconnection = function onVsockConnection(this: unknown, status: number, clientHandle?: unknown): void {
    const full = state.maxConnections !== undefined && state.maxConnections !== null && state._connections >= state.maxConnections;
    if (status !== 0 || clientHandle === undefined || full) return netOnConnection.call(this, status, clientHandle);
    const socket = new VsockSocket({
      handle: clientHandle,
      allowHalfOpen: state.allowHalfOpen,
      pauseOnCreate: state.pauseOnConnect,
      readable: true,
      writable: true,
    } as net.SocketConstructorOpts);
    state._connections++;
    Object.assign(socket, { server, _server: server }); // net's close bookkeeping reads _server
    server.emit('connection', socket);
    if (serverSocketChannel.hasSubscribers) serverSocketChannel.publish({ socket });
  };
}

// A socket that never connected: it reports `error` asynchronously, as net
// does for failures it finds before the connect starts.
export function failedSocket(options: { allowHalfOpen?: boolean }, error: Error): VsockSocket {
  const socket = new VsockSocket({ allowHalfOpen: options.allowHalfOpen });
  (socket as { connecting: boolean }).connecting = true; // buffer early writes so the real error wins
  process.nextTick(() => socket.destroy(error));
  return socket;
}

/** Records the peer a connecting socket is heading for (its remote* getters). */
export function setPeer(socket: VsockSocket, peer: Endpoint): void {
  socket[kPeer] = peer;
}

/**
 * Runs net's own connect state machine on `socket`, whose handle's
 * connect(req) was replaced: net's pipe path, where `label` only names the
 * attempt (the handle ignores it).
 */
export function startNetConnect(socket: VsockSocket, label: string, listener?: () => void): void {
  const netConnect = net.Socket.prototype.connect as (options: net.IpcSocketConnectOpts, listener?: () => void) => net.Socket;
  netConnect.call(socket, { path: label }, listener);
}

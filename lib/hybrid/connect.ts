// connect() to a hybrid vsock endpoint: a Unix connection to the VMM, the
// `CONNECT <port>\n` / `OK <n>\n` handshake, then a plain net.Socket.
//
// The returned socket has no handle while it connects (net holds early
// writes, end() and reads until 'connect', as for any connecting socket).
// Each attempt is an ordinary net.Socket on the VMM's path that does the
// handshake with public APIs. After OK the attempt's Pipe handle is moved
// into the returned socket and net's own connect completion runs on it
// (afterConnect: 'connect', 'ready', held writes flushed, reading started);
// bytes that came with the OK line are unshift()ed in front of the stream.
// A failed attempt is closed whole, so retries start on a fresh connection.
import * as net from 'node:net';
import { constants } from 'node:os';
import { HvsockError, invalidArgValue, systemError, type HvsockSystemError } from '../errors';
import type { StreamHandle, ConnectRequest } from '../handle/handles';
import { ConnectRetrier, pickRetryOptions } from '../retry';
import { abortError, destroyOnAbort } from '../abort';
import { checkNetConnectOptions, type ConnectOptions } from '../options';
import {
  connectLine,
  formatHybrid,
  hybridErrorAddress,
  pickHandshakeTimeout,
  rejectVsockOnly,
  resolveHybridAddress,
  serviceText,
  type HybridAddressOptions,
  type HybridEndpoint,
} from './endpoint';
import { ReplyParser } from './handshake';

/** connect() options for a hybrid endpoint. `connectTimeout` bounds the whole handshake (default 10000 ms). */
export type HybridConnectOptions = Omit<ConnectOptions, 'cid' | 'vmId'> & HybridAddressOptions;

const kRemote = Symbol('hvsock.hybridRemote');
const kLocal = Symbol('hvsock.hybridLocal');
const kReply = Symbol('hvsock.hybridReply');
const kAttempt = Symbol('hvsock.hybridAttempt');
const kTimeout = Symbol('hvsock.hybridTimeout');

/** address()-style info of a hybrid endpoint: `address` is the VMM's socket path. */
export interface HybridAddressInfo extends net.AddressInfo {
  /** Always 'hybrid-vsock'. */
  family: 'hybrid-vsock';
  /** The VMM's Unix socket path. */
  udsPath: string;
  /** The vsock port; -1 in `port` and undefined here for an OpenVMM service GUID. */
  vsockPort: number | undefined;
  /** The guest service: the VSOCK-template id of the port, or an OpenVMM GUID. */
  serviceId: string;
}

/** The address()-style description of a hybrid endpoint. */
export function describeHybrid(endpoint: HybridEndpoint): HybridAddressInfo {
  return {
    address: endpoint.udsPath,
    family: 'hybrid-vsock',
    port: endpoint.port ?? -1,
    udsPath: endpoint.udsPath,
    vsockPort: endpoint.port,
    serviceId: endpoint.serviceId,
  };
}

interface AttemptControl {
  ref(): void;
  unref(): void;
  cancel(): void;
}

/**
 * A connection to a guest through its VMM's hybrid vsock socket: a net.Socket
 * over a Unix socket. `remoteAddress` is the VMM's socket path, `remotePort`
 * the guest port, `remoteFamily` 'hybrid-vsock'.
 */
export class HybridSocket extends net.Socket {
  /** @internal */
  declare [kRemote]: HybridEndpoint | undefined;
  /** @internal */
  declare [kLocal]: HybridEndpoint | undefined;
  /** @internal */
  declare [kReply]: string | undefined;
  /** @internal */
  declare [kAttempt]: AttemptControl | undefined;
  /** @internal */
  declare [kTimeout]: number | undefined;

  /** The VMM's Unix socket this connection runs through. */
  get remoteUdsPath(): string | undefined {
    return this[kRemote]?.udsPath;
  }
  /** The guest service: the VSOCK-template id of the port, or an OpenVMM GUID. */
  get remoteServiceId(): string | undefined {
    return this[kRemote]?.serviceId;
  }
  /** Not known on the host side of a hybrid socket (the VMM holds the guest's CID). */
  get remoteCid(): undefined {
    return undefined;
  }
  /** Not known on the host side of a hybrid socket: always undefined. */
  get remoteVmId(): undefined {
    return undefined;
  }
  /** A Unix socket has no CID: always undefined. */
  get localCid(): undefined {
    return undefined;
  }
  /** A Unix socket has no VM id: always undefined. */
  get localVmId(): undefined {
    return undefined;
  }
  /** The handshake timeout in ms (connectTimeout; default 10000), as VsockSocket#connectTimeout. */
  get connectTimeout(): number | undefined {
    return this[kTimeout];
  }
  /** A Unix socket has no vsock buffer: always undefined (VsockSocket#vsockBufferSize). */
  get vsockBufferSize(): undefined {
    return undefined;
  }
  /** Accepted sockets: the port (or service id) guests connected to. */
  get localServiceId(): string | undefined {
    return this[kLocal]?.serviceId;
  }
  /**
   * The VMM's answer to CONNECT, e.g. `OK 1073741824`: Firecracker and Cloud
   * Hypervisor put their host-side port there, vhost-device-vsock the guest port.
   */
  get handshakeReply(): string | undefined {
    return this[kReply];
  }

  // net's remoteAddress/remotePort/remoteFamily read this. An accepted
  // socket came through the VMM at its udsPath; which guest port it came from
  // the VMM does not say.
  /** @internal */
  _getpeername(): Partial<HybridAddressInfo> {
    const remote = this[kRemote];
    if (remote) return describeHybrid(remote);
    const local = this[kLocal];
    return local ? { address: local.udsPath, family: 'hybrid-vsock', udsPath: local.udsPath } : {};
  }

  // net's address()/localAddress/localPort read this.
  /** @internal */
  _getsockname(): Partial<HybridAddressInfo> {
    const local = this[kLocal];
    return local ? describeHybrid(local) : {};
  }

  override ref(): this {
    this[kAttempt]?.ref();
    return super.ref();
  }

  override unref(): this {
    this[kAttempt]?.unref();
    return super.unref();
  }

  /** Not supported: a hybrid socket connects once. Call hvsock.connect() again. */
  override connect(..._args: unknown[]): this {
    throw new HvsockError('ERR_HVSOCK_SOCKET_NOT_REUSABLE', 'an hvsock socket connects once: call hvsock.connect() for a new connection');
  }
}

/** Makes a socket accepted on a PATH_<port> listener a HybridSocket. */
export function adoptHybridAccepted(socket: net.Socket, local: HybridEndpoint): HybridSocket {
  const adopted = Object.setPrototypeOf(socket, HybridSocket.prototype) as HybridSocket;
  adopted[kLocal] = local;
  return adopted;
}

const errno = (name: 'ECONNRESET' | 'ETIMEDOUT'): number => -(constants.errno[name] as number);

function guestService(endpoint: HybridEndpoint): string {
  return endpoint.port !== undefined ? `port ${endpoint.port}` : `service ${endpoint.serviceId}`;
}

/** The VMM closed the Unix connection without OK: nothing accepts on that guest port (retryable). */
function noListenerError(endpoint: HybridEndpoint): HvsockSystemError {
  return systemError(
    errno('ECONNRESET'),
    'connect',
    hybridErrorAddress(endpoint, `no guest listener on ${guestService(endpoint)} (or the VMM refused)`),
  );
}

function timeoutError(endpoint: HybridEndpoint, ms: number): HvsockSystemError {
  const hint = `no answer to CONNECT ${serviceText(endpoint)} within ${ms} ms: the guest did not accept, or the VMM is stuck`;
  return systemError(errno('ETIMEDOUT'), 'connect', hybridErrorAddress(endpoint, hint));
}

/** A reply that is not `OK ...`: the socket is not a hybrid vsock muxer (not retryable). */
export interface HandshakeError extends HvsockError {
  /** The VMM's Unix socket path. */
  udsPath: string;
  /** The guest port (undefined for an OpenVMM service GUID). */
  port: number | undefined;
  /** The guest service id. */
  serviceId: string;
  /** What the VMM sent, printable and shortened. */
  received: string;
}

function badReplyError(endpoint: HybridEndpoint, received: string): HandshakeError {
  const error = new HvsockError(
    'ERR_HVSOCK_HANDSHAKE',
    `hybrid vsock handshake with ${formatHybrid(endpoint)} failed: the VMM answered "${received}" instead of "OK <port>" ` +
      "(is udsPath the VMM's vsock socket?)",
  ) as HandshakeError;
  Object.assign(error, { udsPath: endpoint.udsPath, port: endpoint.port, serviceId: endpoint.serviceId, received });
  return error;
}

const UNIX_HINTS: Record<string, string> = {
  ENOENT: 'no VMM socket at that path: is the VM running, and is udsPath its vsock socket (Firecracker uds_path)?',
  ECONNREFUSED: 'nothing accepts on that path: the VMM is gone and left its socket file behind',
  EACCES: 'no permission to connect to the VMM socket',
  EAGAIN: "the VMM's listen backlog is full (many connects at once): retry",
};

// A failure of the Unix connect itself, rebuilt with the hybrid address.
function unixConnectError(error: Error & { errno?: number; code?: string }, endpoint: HybridEndpoint, handshaking: boolean): Error {
  if (handshaking && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) return noListenerError(endpoint);
  if (typeof error.errno !== 'number') return error;
  return systemError(error.errno, 'connect', hybridErrorAddress(endpoint, UNIX_HINTS[error.code ?? '']));
}

// Node keeps a handle's owning socket under a symbol named owner_symbol
// (Node 12-26); net's callbacks find the socket through it.
function ownerSymbol(handle: object): symbol | undefined {
  return Object.getOwnPropertySymbols(handle).find((symbol) => symbol.description === 'owner_symbol');
}

interface Internals {
  _handle: (StreamHandle & { reading?: boolean; readStop(): number }) | null;
}

/**
 * Moves the connected attempt's handle into `socket` and lets net complete
 * the connect on it: net's own afterConnect emits 'connect' and 'ready',
 * flushes held writes and starts reading. Then `rest` goes in front.
 */
function adoptHandle(socket: HybridSocket, raw: net.Socket, rest: Buffer): Error | undefined {
  const handle = (raw as unknown as Internals)._handle;
  const owner = handle ? ownerSymbol(handle) : undefined;
  if (!handle || !owner)
    return new HvsockError('ERR_HVSOCK_NO_ADOPTION', 'this Node version does not let hvsock move a Unix socket handle');
  (raw as unknown as Internals)._handle = null; // raw forgets it; destroying raw now closes nothing
  raw.destroy();
  (handle as unknown as Record<symbol, unknown>)[owner] = socket;
  handle.reading = false; // stopped in the attempt; net's _read starts it again
  (socket as unknown as Internals)._handle = handle;
  handle.connect = (request: ConnectRequest): number => {
    request.oncomplete(0, handle, request, true, true);
    return 0;
  };
  const netConnect = net.Socket.prototype.connect as (options: net.IpcSocketConnectOpts) => net.Socket;
  netConnect.call(socket, { path: (socket[kRemote] as HybridEndpoint).udsPath });
  if (rest.length > 0 && !socket.destroyed) socket.unshift(rest);
  return undefined;
}

/** Connects to a guest port through the VMM socket; see HybridSocket. */
export function connectHybrid(options: HybridConnectOptions, connectListener?: () => void): HybridSocket {
  const endpoint = resolveHybridAddress(options);
  rejectVsockOnly(options);
  if (process.platform === 'win32') {
    throw new HvsockError('ERR_HVSOCK_UNSUPPORTED_PLATFORM', 'hybrid vsock needs Unix domain sockets (Linux and macOS hosts)');
  }
  if (options.io === 'poll')
    throw invalidArgValue('options.io', options.io, "does not apply to a hybrid vsock endpoint (a Unix socket on Node's own handles)");
  if (options.type !== undefined && options.type !== 'stream')
    throw invalidArgValue('options.type', options.type, "must be 'stream' for a hybrid vsock endpoint");
  const handshakeTimeout = pickHandshakeTimeout(options.connectTimeout);
  checkNetConnectOptions(options as ConnectOptions, connectListener);
  const retryPolicy = pickRetryOptions(options.retry);

  const socket = new HybridSocket({ allowHalfOpen: options.allowHalfOpen });
  socket[kRemote] = endpoint;
  socket[kTimeout] = handshakeTimeout;
  (socket as { connecting: boolean }).connecting = true; // net holds writes, end() and reads until 'connect'
  if (connectListener) socket.once('connect', connectListener);
  if (options.timeout !== undefined) socket.setTimeout(options.timeout);
  const signal = options.signal;
  const stopSignal = retryPolicy?.signal;
  if (signal?.aborted || stopSignal?.aborted) {
    process.nextTick(() => socket.destroy(abortError((signal?.aborted ? signal : stopSignal) as AbortSignal)));
    return socket;
  }
  if (signal) destroyOnAbort(socket, signal);
  const retrier = retryPolicy && new ConnectRetrier(socket, retryPolicy);
  let refed = true;
  let current: AttemptControl | undefined; // the attempt in flight, if any
  // ref()/unref() while connecting reach the attempt and the retry timer.
  socket[kAttempt] = {
    ref: () => {
      refed = true;
      current?.ref();
      retrier?.ref();
    },
    unref: () => {
      refed = false;
      current?.unref();
      retrier?.unref();
    },
    cancel: () => current?.cancel(),
  };

  const attempt = (): void => {
    const raw = net.createConnection({ path: endpoint.udsPath, allowHalfOpen: true });
    const parser = new ReplyParser();
    let connected = false;
    let wrote = false;
    let reply: { line: string; rest: Buffer[] } | undefined;
    let done = false;
    const timer = setTimeout(() => fail(timeoutError(endpoint, handshakeTimeout)), handshakeTimeout);
    const control: AttemptControl = {
      ref: () => {
        raw.ref();
        timer.ref();
      },
      unref: () => {
        raw.unref();
        timer.unref();
      },
      cancel: () => finish(),
    };
    current = control;
    if (!refed) control.unref();
    // Ends the attempt; the connection is closed unless it is being handed over.
    const finish = (handOver = false): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      raw.removeAllListeners();
      raw.on('error', () => undefined);
      if (current === control) current = undefined;
      if (!handOver) raw.destroy();
    };
    const fail = (error: Error): void => {
      if (done) return;
      finish();
      if (socket.destroyed) return;
      if (retrier?.failed(error as HvsockSystemError, attempt)) return;
      socket.destroy(error);
    };
    const succeed = (): void => {
      if (done || !reply || !wrote || socket.destroyed) return;
      // Reading stopped at the OK line (synchronously, so normally nothing
      // follows), but whatever the attempt's stream emitted or still holds
      // after that line is the guest's: it goes after `rest`, in order.
      raw.removeAllListeners('data');
      raw.pause();
      for (let chunk = raw.read() as Buffer | null; chunk !== null; chunk = raw.read() as Buffer | null) reply.rest.push(chunk);
      const line = reply.line;
      const rest = Buffer.concat(reply.rest);
      finish(true);
      socket[kAttempt] = undefined; // connected: ref()/unref() act on the handle alone
      socket[kReply] = line;
      const failure = adoptHandle(socket, raw, rest);
      if (failure) {
        raw.destroy();
        socket.destroy(failure);
      }
    };
    raw.once('connect', () => {
      connected = true;
      raw.write(connectLine(endpoint), () => {
        wrote = true;
        process.nextTick(succeed);
      });
    });
    raw.on('data', (chunk: Buffer) => {
      if (reply) {
        reply.rest.push(chunk); // after the OK line: the guest's bytes, kept
        return;
      }
      const outcome = parser.feed(chunk);
      if (outcome.state === 'partial') return;
      if (outcome.state === 'bad') return fail(badReplyError(endpoint, outcome.received));
      // Stop reading at once: what follows belongs to the application.
      (raw as unknown as Internals)._handle?.readStop();
      reply = { line: outcome.line, rest: [outcome.rest] };
      process.nextTick(succeed);
    });
    raw.once('end', () => fail(noListenerError(endpoint)));
    raw.once('error', (error: Error) => fail(unixConnectError(error, endpoint, connected)));
    raw.once('close', () => fail(noListenerError(endpoint)));
  };
  socket.once('close', () => socket[kAttempt]?.cancel());
  attempt();
  return socket;
}

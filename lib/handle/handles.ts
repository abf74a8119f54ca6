// Adoption of vsock descriptors into Node's own libuv stream handles, so that
// sockets and servers are real net.Socket / net.Server objects on Node's
// native I/O path. Node's net cannot take a vsock fd itself (uv_guess_handle
// says UNKNOWN), but libuv's pipe/tcp open never check the address family.
import * as net from 'node:net';
import { binding } from '../binding';

/** The part of Node's internal stream handle (PipeWrap / TCPWrap) we touch. */
export interface StreamHandle {
  readonly fd: number;
  open(fd: number): number;
  close(callback?: () => void): void;
  listen(backlog: number): number;
  ref(): void;
  unref(): void;
  connect?: (request: ConnectRequest, ...rest: unknown[]) => number;
}

/** Node's PipeConnectWrap as net's internalConnect fills it in. */
export interface ConnectRequest {
  oncomplete(status: number, handle: StreamHandle, request: ConnectRequest, readable: boolean, writable: boolean): void;
}

type HandleConstructor = new (type: number) => StreamHandle;

// PipeConstants.SOCKET, TCPConstants.SOCKET / SERVER (stable since Node 0.x).
const PIPE_SOCKET = 0;
const TCP_SOCKET = 0;
const TCP_SERVER = 1;

/** Node's handle of a net.Socket / net.Server (an internal field). */
export function handleOf(owner: net.Socket | net.Server): StreamHandle | null {
  return (owner as unknown as { _handle: StreamHandle | null })._handle ?? null;
}

// Learns a handle constructor from a public object: a net.Socket made on a
// throwaway descriptor of the right kind. process.binding() would be shorter
// but warns under --pending-deprecation and throws under --permission.
function constructorFromDescriptor(fd: number): HandleConstructor | undefined {
  let socket: net.Socket;
  try {
    socket = new net.Socket({ fd, readable: false, writable: false, manualStart: true } as net.SocketConstructorOpts);
  } catch {
    binding().close(fd);
    return undefined;
  }
  const handle = handleOf(socket) as { constructor?: HandleConstructor } | null;
  socket.destroy();
  return handle?.constructor;
}

function constructorFromProcessBinding(module: string, name: string): HandleConstructor | undefined {
  try {
    const loaded = (process as unknown as { binding(id: string): Record<string, unknown> }).binding(module);
    return loaded[name] as HandleConstructor | undefined;
  } catch {
    return undefined;
  }
}

let pipeConstructor: HandleConstructor | null | undefined;
let tcpConstructor: HandleConstructor | null | undefined;

function pipeHandleConstructor(): HandleConstructor | null {
  if (pipeConstructor === undefined) {
    const pair = binding().standInPair?.();
    let found: HandleConstructor | undefined;
    if (Array.isArray(pair)) {
      found = constructorFromDescriptor(pair[0]);
      binding().close(pair[1]);
    }
    pipeConstructor = found ?? constructorFromProcessBinding('pipe_wrap', 'Pipe') ?? null;
  }
  return pipeConstructor;
}

// Windows has no fd to wrap (net.Socket({ fd }) takes CRT descriptors, not
// SOCKETs): net.Socket.connect() to an IP literal makes its TCP handle at
// once but starts connecting only on the next tick, so destroying it first
// yields the constructor with no traffic at all.
function constructorFromUnstartedConnect(): HandleConstructor | undefined {
  const socket = new net.Socket();
  socket.on('error', () => {});
  try {
    socket.connect({ port: 9, host: '127.0.0.1' });
    return (handleOf(socket) as { constructor?: HandleConstructor } | null)?.constructor;
  } catch {
    return undefined;
  } finally {
    socket.destroy();
  }
}

function tcpHandleConstructor(): HandleConstructor | null {
  if (tcpConstructor === undefined) {
    const fd = binding().standInInet?.() ?? -1;
    const found = fd >= 0 ? constructorFromDescriptor(fd) : undefined;
    tcpConstructor =
      found ??
      (process.platform === 'win32' ? constructorFromUnstartedConnect() : undefined) ??
      constructorFromProcessBinding('tcp_wrap', 'TCP') ??
      null;
  }
  return tcpConstructor;
}

/** True when descriptors can be adopted into Node's handles here. */
export function canAdopt(): boolean {
  return pipeHandleConstructor() !== null && tcpHandleConstructor() !== null;
}

function create(ctor: HandleConstructor | null, type: number): StreamHandle | number {
  return ctor === null ? -95 : new ctor(type); // EOPNOTSUPP: the caller falls back or reports
}

function adopt(ctor: HandleConstructor | null, type: number, fd: number): StreamHandle | number {
  const handle = create(ctor, type);
  if (typeof handle === 'number') return handle;
  binding().disown?.(fd); // the handle owns it from here (nothing runs in between)
  const status = handle.open(fd);
  if (status !== 0) {
    handle.close();
    return status;
  }
  return handle;
}

/**
 * An empty Pipe handle for a socket whose connect is still in flight; the fd
 * is given to it with open() once connected. Returns a negative status when
 * handles cannot be made here.
 */
export function newStreamHandle(): StreamHandle | number {
  return create(pipeHandleConstructor(), PIPE_SOCKET);
}

/** A connected stream fd in a Pipe handle, or a negative status. */
export function adoptStream(fd: number): StreamHandle | number {
  return adopt(pipeHandleConstructor(), PIPE_SOCKET, fd);
}

/**
 * A bound, not yet listening fd in a TCP(SERVER) handle, or a negative status.
 * net.Server only listens on TCP handles; libuv's listen() does not care
 * about the family, and its accept4() hands out TCP handles for the clients.
 */
export function adoptListener(fd: number): StreamHandle | number {
  return adopt(tcpHandleConstructor(), TCP_SERVER, fd);
}

/**
 * Windows: an empty TCP handle. Connected AF_HYPERV sockets are opened into
 * TCP(SOCKET) handles (uv_tcp_open, libuv's IOCP path; Pipe handles take no
 * sockets on Windows); a TCP(SERVER) handle, never opened, lets net.Server
 * run a native accept thread (lib/win/server.ts). Negative status when
 * handles cannot be made here.
 */
export function newTcpHandle(type: 'socket' | 'server'): StreamHandle | number {
  return create(tcpHandleConstructor(), type === 'socket' ? TCP_SOCKET : TCP_SERVER);
}

/** What follows a handle's lifecycle: a native watcher of the same socket. */
export interface HandleCompanion {
  /** Runs before the handle closes (e.g. stop a thread, close the fd it owns). */
  close(): void;
  ref(): void;
  unref(): void;
}

/**
 * Makes `handle`'s close/ref/unref also act on `companion`, and remembers the
 * ref state for a companion created later (`isRefed()`).
 */
export function followHandle(handle: StreamHandle, companion: HandleCompanion): { isRefed(): boolean } {
  const { close, ref, unref } = handle;
  let refed = true;
  handle.close = function closeCompanionFirst(callback?: () => void): void {
    companion.close();
    close.call(this, callback);
  };
  handle.ref = function refBoth(): void {
    refed = true;
    companion.ref();
    ref.call(this);
  };
  handle.unref = function unrefBoth(): void {
    refed = false;
    companion.unref();
    unref.call(this);
  };
  return { isRefed: () => refed };
}

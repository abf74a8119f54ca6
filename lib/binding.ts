// Loads the native addon and describes it. Every function returns an integer
// status (negative = -errno) as documented in native/hvsock.h.
import * as path from 'node:path';
import { invalidArgValue } from './errors';

/** Socket types for socket(), as enum hvsock_type in native/hvsock.h. */
export const SOCKET_STREAM = 1;
export const SOCKET_SEQPACKET = 2;

/** uv_poll event bits. */
export const POLL_READABLE = 1;
export const POLL_WRITABLE = 2;
export const POLL_DISCONNECT = 4;

/** A uv_poll_t on this environment's event loop. */
export interface NativePoller {
  /** Starts (or changes) watching; returns a status. */
  start(events: number): number;
  stop(): number;
  /** Closes the poll handle, and the fd too when the poller owns it. Idempotent. */
  close(): void;
  /** Closes the poll handle and gives up ownership: the fd stays open. */
  release(): void;
  ref(): void;
  unref(): void;
}

export interface NativePollerConstructor {
  /** With ownsFd, close() and environment teardown also close `fd`. */
  new (fd: number, onEvent: (status: number, events: number) => void, ownsFd?: boolean): NativePoller;
}

/** One socket's message sender (Linux SOCK_SEQPACKET). */
export interface NativeMessageSender {
  /**
   * Copies `message` (before returning) and queues it; onResult(bytes | -err)
   * follows once per message, in order, on this loop. Returns 0 or a
   * negative status (nothing queued).
   */
  send(message: Uint8Array): number;
  /**
   * Drops queued messages, wakes a send blocked in the kernel (shuts the
   * socket down) and stops the thread; no onResult after this. Idempotent.
   */
  close(): void;
}

export interface NativeMessageSenderConstructor {
  new (fd: number, onResult: (result: number) => void): NativeMessageSender;
}

/** Family-level socket option names (SO_VM_SOCKETS_*). */
export const VsockOption = Object.freeze({
  BUFFER_SIZE: 0,
  BUFFER_MIN_SIZE: 1,
  BUFFER_MAX_SIZE: 2,
});

export interface NativeBinding {
  readonly constants: {
    readonly platform: 'linux' | 'win32';
    readonly AF_VSOCK?: number;
    readonly AF_UNIX?: number;
    readonly SOCK_STREAM?: number;
    readonly SOCK_SEQPACKET?: number;
    /** recvmsg() msg_flags bit: the message was longer than the buffer. */
    readonly MSG_TRUNC?: number;
  };
  /** Linux only: Windows waits on socket threads instead (binding.win). */
  readonly Poller: NativePollerConstructor;
  /** type: 1 stream, 2 seqpacket. Returns fd or a negative status. */
  socket(type: number): number;
  bind(fd: number, address: Uint8Array): number;
  listen(fd: number, backlog: number): number;
  /** 0 connected, UV_EINPROGRESS pending, or a negative status. */
  connect(fd: number, address: Uint8Array): number;
  /** Returns the new fd (peer written to `peerOut`) or a negative status. */
  accept(fd: number, peerOut: Uint8Array): number;
  /** SO_ERROR as a negative status, or 0. */
  takeError(fd: number): number;
  /** how: 0 read, 1 write, 2 both. */
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  getsockname(fd: number, out: Uint8Array): number;
  getpeername(fd: number, out: Uint8Array): number;
  setOption(fd: number, name: number, value: number): number;
  /**
   * The option's value (a u64: a bigint when past Number.MAX_SAFE_INTEGER,
   * so it is exact and never negative), or a negative number status.
   */
  getOption(fd: number, name: number): number | bigint;
  setConnectTimeout(fd: number, ms: number): number;
  /** The connect timeout in ms (kernel-rounded to its tick; a bigint past 2^53 - 1), or a negative status. */
  getConnectTimeout(fd: number): number | bigint;
  /** [family, type] of any socket fd, or a negative status. */
  describe(fd: number): [number, number] | number;
  /** The local CID from /dev/vsock, or a negative status. */
  localCid(): number;
  // The poll-driven path's data calls (native/addon_io.cc; Linux only so far).
  /** Reads into `buffer` from its start: bytes, 0 at end of stream, or a negative status (EAGAIN included). */
  read?(fd: number, buffer: Uint8Array): number;
  /** One gather write (one message on SEQPACKET): bytes accepted, possibly short, or a negative status. */
  writev?(fd: number, buffers: readonly Uint8Array[]): number;
  /** One recvmsg(): bytes stored or a negative status; flagsOut[0] = msg_flags. */
  recvmsg?(fd: number, buffer: Uint8Array, flagsOut: Int32Array): number;
  /**
   * SOCK_SEQPACKET sends on a thread of the socket's own (native/addon_message_sender.cc):
   * each message one blocking send(), on a dup of the fd (which must be
   * blocking: setBlocking). Throws if the fd cannot be duplicated.
   */
  readonly MessageSender?: NativeMessageSenderConstructor;
  /** Clears (true) or sets (false) O_NONBLOCK on the fd's file description. */
  setBlocking?(fd: number, blocking: boolean): number;
  /** The most buffers one writev() takes (IOV_MAX); more are a short write. */
  readonly maxWriteBuffers?: number;
  /** Linux: a connected AF_UNIX pair (SOCK_STREAM, or SOCK_SEQPACKET for SOCKET_SEQPACKET), or a negative status. */
  standInPair?(type?: number): [number, number] | number;
  /** Linux: an unbound AF_INET stream socket, or a negative status. */
  standInInet?(): number;
  /** Linux: 1 if `fd` is listening (SO_ACCEPTCONN), 0 if not, or a negative status. */
  isListening?(fd: number): number;
  /** Linux: sets FD_CLOEXEC on an adopted descriptor; a status. */
  setCloexec?(fd: number): number;
  /**
   * Linux: the environment's spare descriptor for the EMFILE trick ("/",
   * read-only, close-on-exec; closed with the environment). true opens it
   * unless open, false closes it; a status.
   */
  reserve?(hold: boolean): number;
  /**
   * Linux: fds from socket() and accept() are held by the environment until
   * an owner takes them (a Poller with ownsFd, close(), or disown() just
   * before a Node handle opens the fd), and closed at its teardown: a Worker
   * terminated between two statements leaks nothing (native/addon_custody.h).
   */
  disown?(fd: number): void;
  /** Linux: how many fds await an owner (0 whenever no call is under way). */
  heldDescriptors?(): number;
  /** Windows only (native/addon_win32.cc): typed in lib/win/binding.ts. */
  win?: unknown;
}

/** An option read's value, or undefined for a negative (error) status. */
export function optionValue(read: number | bigint): number | bigint | undefined {
  return typeof read === 'bigint' || read >= 0 ? read : undefined;
}

let cached: NativeBinding | undefined;

/**
 * Test-only fault injection: makes binding() return `replacement` (or the
 * real addon again when called with no argument). Not exported from index.
 */
export function replaceBindingForTesting(replacement?: NativeBinding): void {
  cached = replacement;
}

/**
 * Environment override: the absolute path of the .node file to load instead
 * of node-gyp-build's pick. CI uses it to run the suites against other builds
 * of the same sources (cmake-js's build, a sanitizer build).
 */
export const ADDON_PATH_ENV = 'HVSOCK_ADDON_PATH';

/** Where the addon comes from: the override if set, else node-gyp-build's choice. */
export function addonPath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[ADDON_PATH_ENV];
  if (override !== undefined && override !== '') {
    // A relative path would silently depend on the working directory.
    if (!path.isAbsolute(override)) {
      throw invalidArgValue(`process.env.${ADDON_PATH_ENV}`, override, 'must be an absolute path to a .node file');
    }
    return override;
  }
  // node-gyp-build picks build/Release (a local build) first, then the
  // matching prebuilds/<platform>-<arch>/ file.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when no override is set
  const gypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  return gypBuild.resolve(path.join(__dirname, '..'));
}

/** The addon for this platform (local build, prebuild or override), loaded once. */
export function binding(): NativeBinding {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a .node file at a path known at run time
  if (cached === undefined) cached = require(addonPath()) as NativeBinding;
  return cached;
}

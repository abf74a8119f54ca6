// Loads the native addon and describes it. Every function returns an integer
// status (negative = -errno) as documented in native/hvsock.h.
import * as path from 'node:path';

/** Socket types for socket(), as enum hvsock_type in native/hvsock.h. */
export const SOCKET_STREAM = 1;

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
  };
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
  /** The option's value, or a negative status. */
  getOption(fd: number, name: number): number;
  setConnectTimeout(fd: number, ms: number): number;
  /** The connect timeout in ms (kernel-rounded to its tick), or a negative status. */
  getConnectTimeout(fd: number): number;
  /** [family, type] of any socket fd, or a negative status. */
  describe(fd: number): [number, number] | number;
  /** The local CID from /dev/vsock, or a negative status. */
  localCid(): number;
  /** Linux: a connected AF_UNIX stream pair, or a negative status. */
  standInPair?(): [number, number] | number;
  /** Linux: an unbound AF_INET stream socket, or a negative status. */
  standInInet?(): number;
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
 * The addon for this platform (prebuild or local build), loaded once.
 *
 * HVSOCK_ADDON_PATH (absolute path of a .node file) loads that build instead:
 * for testing other builds of the same sources, such as the sanitizer build
 * in build-asan/ (npm run test:asan). Not meant for production use.
 */
export function binding(): NativeBinding {
  if (cached === undefined) {
    const override = process.env.HVSOCK_ADDON_PATH;
    if (override) {
      cached = require(path.resolve(override)) as NativeBinding;
    } else {
      // node-gyp-build looks in prebuilds/ first, then build/Release.
      const load = require('node-gyp-build') as (dir: string) => NativeBinding;
      cached = load(path.join(__dirname, '..'));
    }
  }
  return cached;
}

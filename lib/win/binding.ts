// The Windows part of the native addon (`binding().win`, native/addon_win32.cc):
// typed here, apart from the shared interface in ../binding.ts.
import { binding } from '../binding';
import { HvsockError } from '../errors';

/**
 * A connect (waited for by the environment's one connect-waiter thread), or
 * a listener's accept loop (a thread per listener, at most 128 accepted
 * connections queued for the JS thread), each posting results to this
 * environment's JS thread. Owns `fd` until release(): close() and
 * environment teardown close it.
 */
export interface NativeSocketThread {
  /** Stops the connect or the accepting and closes the fd if still owned, without waiting for a thread. Idempotent. */
  close(): void;
  /** Stops the thread and gives the fd back (it stays open). */
  release(): void;
  ref(): void;
  unref(): void;
}

/**
 * callback(status, systemCode, clientFd, peer): connect gets one call
 * (clientFd -1); accept one per connection or accept error.
 */
export type SocketThreadCallback = (status: number, systemCode: number, clientFd: number, peer: Uint8Array) => void;

export interface NativeSocketThreadConstructor {
  /** `address` (40 bytes) is the connect target; null when `accept`. */
  new (fd: number, address: Uint8Array | null, accept: boolean, callback: SocketThreadCallback): NativeSocketThread;
}

/**
 * A connected SOCKET on the addon's completion port (the overlapped path,
 * native/overlapped_win32.h). Methods return 0 or a negative status.
 */
export interface NativeOverlapped {
  /** One overlapped WSARecv (64 KiB) unless one is pending. */
  read(): number;
  /** Sends all of `buffers` (copied); one write at a time. */
  write(buffers: Buffer[]): number;
  /** shutdown(SD_SEND). */
  shutdown(): number;
  /** CancelIoEx + closesocket; no callback after this. Idempotent. */
  close(): void;
  ref(): void;
  unref(): void;
}

/**
 * callback(kind, status, systemCode, data): kind 1 = read (data a Buffer,
 * or 0 at the peer's end), 2 = a whole write sent (data its byte count).
 */
export type OverlappedCallback = (kind: number, status: number, systemCode: number, data: Buffer | number) => void;

export interface NativeOverlappedConstructor {
  /** Takes `fd`; throws (with `status`) after closing it. `sendCap` is TEST-ONLY (0: none). */
  new (fd: number, callback: OverlappedCallback, sendCap: number): NativeOverlapped;
}

export interface WinBinding {
  readonly SocketThread: NativeSocketThreadConstructor;
  readonly Overlapped: NativeOverlappedConstructor;
  /** The raw Windows error (WSA* / ERROR_*) behind the last failure of this thread. */
  lastSystemError(): number;
  /** The process's open kernel handle count, or a negative status (leak checks). */
  handleCount(): number;
  /** The process's thread count (Toolhelp snapshot), or a negative status (tests). */
  threadCount(): number;
  /** GetSystemDirectoryW (C:\Windows\System32), or a negative status. */
  systemDirectory(): string | number;
  /** TEST-ONLY: an overlapped AF_INET socket (see lib/win/transport.ts), or a negative status. */
  standInInet(): number;
  registerService(serviceId: string, name: string): number;
  unregisterService(serviceId: string): number;
  /** [[serviceId, name], ...] or a negative status. */
  listServices(): Array<[string, string]> | number;
}

/** The Windows binding; throws ERR_HVSOCK_UNSUPPORTED_PLATFORM elsewhere. */
export function winBinding(what = 'this'): WinBinding {
  const win = (binding() as { win?: WinBinding }).win;
  if (win === undefined) {
    throw new HvsockError('ERR_HVSOCK_UNSUPPORTED_PLATFORM', `${what} is available only on Windows (AF_HYPERV)`);
  }
  return win;
}

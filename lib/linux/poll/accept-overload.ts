// What a poll-path server does when accept4 keeps failing. The failed
// connection stays queued and the level-triggered watcher fires again at
// once, so simply retrying spins a core and emits an 'error' per loop turn.
//
// EMFILE/ENFILE (no descriptor for the new connection): as libuv does for
// Node's own servers (uv__emfile_trick, src/unix/stream.c), a descriptor
// held in reserve is closed, the queued connections are accepted and closed
// at once, so their peers see the connection end instead of waiting, and the
// reserve is opened again. Any persistent failure (the trick could not run,
// ENFILE taken again by another process, ENOBUFS, ...) then pauses accepting
// with a doubling backoff: a retry per backoff period, not per loop turn.
import { debuglog } from 'node:util';
import { binding } from '../../binding';
import { UV_ECONNABORTED, UV_EMFILE, UV_ENFILE } from '../../errno';

const debug = debuglog('hvsock'); // NODE_DEBUG=hvsock, as NODE_DEBUG=net for Node's own

/** At most this many queued connections are shed per trick (the default backlog). */
const SHED_LIMIT = 4096;
/** Backoff of a paused server: the first retry after this long, doubling up to BACKOFF_MAX_MS. */
export const BACKOFF_MIN_MS = 50;
export const BACKOFF_MAX_MS = 1000;

// One reserve per environment, held by the addon (which closes it with the
// environment: a terminated Worker runs no JS) while any poll server of this
// environment listens, as libuv holds one per loop.
let reserved = false;
let holders = 0;

function openReserve(): void {
  if (!reserved) reserved = (binding().reserve?.(true) ?? -1) === 0;
}

/** A listening server needs the reserve: opened now, while descriptors are likely free. */
export function holdReserve(): void {
  holders += 1;
  openReserve();
}

/** The server stopped listening; the last one closes the reserve. */
export function releaseReserve(): void {
  holders = Math.max(0, holders - 1);
  if (holders === 0 && reserved) {
    binding().reserve?.(false);
    reserved = false;
  }
}

/**
 * The EMFILE trick on `listenFd`: accepts and closes the queued
 * connections with the reserve's slot. Returns how many were dropped, or -1
 * without a reserve (it could not be opened, or another thread took the
 * slot last time): the caller backs off instead.
 */
export function shedQueued(listenFd: number, peerOut: Uint8Array): number {
  if (!reserved) {
    openReserve(); // for next time: fails while the table is still full
    debug('accept overload: no reserve descriptor, queue left (reopened: %s)', reserved);
    return -1;
  }
  const native = binding();
  native.reserve?.(false);
  reserved = false;
  let dropped = 0;
  let last = 0;
  for (let i = 0; i < SHED_LIMIT; i++) {
    last = native.accept(listenFd, peerOut);
    if (last === UV_ECONNABORTED) continue;
    if (last < 0) break; // EAGAIN: queue empty; EMFILE: the slot went elsewhere
    native.close(last);
    dropped += 1;
  }
  openReserve();
  debug('accept overload: shed %d queued connection(s), stopped by %d, reserve %s', dropped, last, reserved ? 'held' : 'lost');
  return dropped;
}

/** Whether an accept status means "no descriptor to put the connection in". */
export function isDescriptorShortage(status: number): boolean {
  return status === UV_EMFILE || status === UV_ENFILE;
}

/** The pause before the next retry, after `failures` consecutive failed ones (1-based). */
export function backoffDelay(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(failures - 1, 16));
}

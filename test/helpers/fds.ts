// Open file descriptors of this process, for leak checks.
import { readdirSync, readlinkSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/**
 * This process's descriptors as "fd -> target" (target as readlink shows it:
 * "socket:[123]", "pipe:[4]", a path), sorted.
 *
 * In a worker thread (vitest's threads pool, used by the sanitizer run)
 * /proc/self/fd also shows the descriptors the runner's main thread opens
 * and closes while it works (module sources it reads), so only sockets are
 * listed there: the descriptors this library makes.
 */
export function openFds(): string[] {
  const entries: string[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // the directory's own fd, closed by the time we read it
    }
    if (!isMainThread && !target.startsWith('socket:')) continue;
    entries.push(`${name} -> ${target}`);
  }
  return entries.sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
}

/** Descriptors open now that were not open (or pointed elsewhere) in `before`, and those gone since. */
export function fdChanges(before: readonly string[]): { opened: string[]; closed: string[] } {
  const now = openFds();
  const then = new Set(before);
  const current = new Set(now);
  return { opened: now.filter((e) => !then.has(e)), closed: before.filter((e) => !current.has(e)) };
}

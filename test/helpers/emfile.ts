// Runs test/fixtures/emfile-server.js (a server whose process then fills its
// descriptor table) and reads its JSON-line events. Shared by the host test
// (AF_UNIX stand-in listener) and the guest one (real vsock servers).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'emfile-server.js');
/** The child's descriptor limit: low, so filling the table is quick. */
const FD_LIMIT = 256;

export type EmfileChild = ChildProcessByStdio<Writable, Readable, null>;
export type EmfileEvent = Record<string, unknown>;

export interface EmfileServer {
  child: EmfileChild;
  /** Resolves with the next event named `event` (waiting for it if need be). */
  next(event: string): Promise<EmfileEvent>;
}

/** Starts the fixture; `listenerFd` becomes its fd 3 (the stand-in listener). */
export function startEmfileServer(options: { env?: NodeJS.ProcessEnv; listenerFd?: number } = {}): EmfileServer {
  const stdio: Array<'pipe' | 'inherit' | number> = ['pipe', 'pipe', 'inherit'];
  if (options.listenerFd !== undefined) stdio.push(options.listenerFd);
  // exec keeps the descriptors and the lowered limit.
  const child = spawn('sh', ['-c', `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`, process.execPath, FIXTURE], {
    stdio,
    env: { ...process.env, ...options.env },
  }) as unknown as EmfileChild;
  const events: EmfileEvent[] = [];
  const waiters: Array<() => void> = [];
  const wakeAll = (): void => {
    for (const wake of waiters.splice(0)) wake();
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    events.push(JSON.parse(line) as EmfileEvent);
    wakeAll();
  });
  child.once('exit', wakeAll);
  const next = async (event: string): Promise<EmfileEvent> => {
    for (;;) {
      const index = events.findIndex((e) => e.event === event);
      if (index >= 0) return events.splice(index, 1)[0];
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`fixture exited (${child.exitCode ?? child.signalCode}) before '${event}'`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { child, next };
}

/** Rejects after `ms` with `message`, for Promise.race. */
export function deadline(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

const closes = new WeakMap<object, Promise<void>>();

/** Starts watching `socket` for 'close' at once: a shed peer may close before the test looks. */
export function trackClose<S extends NodeJS.EventEmitter>(socket: S): S {
  closes.set(socket, new Promise((resolve) => socket.once('close', () => resolve())));
  return socket;
}

/** Resolves once a socket given to trackClose() has closed. */
export function closed(socket: object): Promise<void> {
  const promise = closes.get(socket);
  if (promise === undefined) throw new Error('closed(): the socket is not tracked (call trackClose() when making it)');
  return promise;
}

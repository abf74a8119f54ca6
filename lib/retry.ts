// connect({ retry }): try again, on a fresh descriptor after a jittered
// exponential backoff, while the error means "the peer is not there yet".
// The retries happen inside one connect(): the returned socket stays in
// net's connecting state (writes are buffered, 'connect' fires once) and
// emits 'retry' before each wait. That keeps connect() synchronous, so it
// still works as createConnection for http.Agent and undici.
import type { EventEmitter } from 'node:events';
import { invalidArgType, outOfRange, type HvsockSystemError } from './errors';
import { abortError } from './abort';

/** connect()'s `retry` option. */
export interface RetryOptions {
  /** Connect attempts in all, the first included (default 10; Infinity: until aborted). */
  attempts?: number;
  /** Delay before the first retry in ms (default 100). */
  minDelay?: number;
  /** Upper bound of any delay in ms (default 5000). */
  maxDelay?: number;
  /** Stops retrying: the socket is destroyed with an AbortError while it is still connecting. */
  signal?: AbortSignal;
}

/** The payload of a socket's 'retry' event. */
export interface RetryEvent {
  /** The attempt that just failed, from 1. */
  attempt: number;
  /** How long until the next attempt, in ms. */
  delay: number;
  /** The error the failed attempt ended with. */
  error: HvsockSystemError;
}

/** Validated retry settings. */
export interface RetryPolicy {
  attempts: number;
  minDelay: number;
  maxDelay: number;
  signal?: AbortSignal;
}

/**
 * Errors that mean "nothing there yet": vsock resets a connect with no
 * listener (ECONNRESET); Hyper-V refuses or times out; a CID whose VM is not
 * up yet has no route (ENODEV from the host's vhost transport, or
 * EHOSTUNREACH / ENETUNREACH). Hybrid vsock (lib/hybrid/): ECONNRESET when the
 * VMM closes without OK (no guest listener yet), ETIMEDOUT for no answer,
 * ECONNREFUSED / ENOENT while the VMM's socket is not there yet, EAGAIN when
 * its listen backlog is full (Linux Unix sockets refuse a connect that way).
 */
export const RETRYABLE_CONNECT_ERRORS: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENODEV',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOENT',
  'EAGAIN',
]);

/** Whether a connect failure is worth another attempt. */
export function isRetryableConnectError(error: { code?: unknown; syscall?: unknown }): boolean {
  return error.syscall === 'connect' && typeof error.code === 'string' && RETRYABLE_CONNECT_ERRORS.has(error.code);
}

const MAX_DELAY = 0x7fffffff; // setTimeout's limit

function delayOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < 0 || value > MAX_DELAY) throw outOfRange(name, `an integer >= 0 and <= ${MAX_DELAY}`, value);
  return value;
}

/** Validates connect()'s `retry` option (true = defaults); undefined when retries are off. */
export function pickRetryOptions(value: unknown, name = 'options.retry'): RetryPolicy | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { attempts: 10, minDelay: 100, maxDelay: 5000 };
  if (value === null || typeof value !== 'object') throw invalidArgType(name, 'of type object or boolean', value);
  const given = value as RetryOptions;
  const { attempts = 10 } = given;
  if (typeof attempts !== 'number') throw invalidArgType(`${name}.attempts`, 'of type number', attempts);
  if (!(attempts === Infinity || (Number.isInteger(attempts) && attempts >= 1))) {
    throw outOfRange(`${name}.attempts`, 'an integer >= 1 or Infinity', attempts);
  }
  const minDelay = delayOption(given.minDelay, `${name}.minDelay`, 100);
  const maxDelay = delayOption(given.maxDelay, `${name}.maxDelay`, Math.max(5000, minDelay));
  if (maxDelay < minDelay) throw outOfRange(`${name}.maxDelay`, `>= minDelay (${minDelay})`, maxDelay);
  if (given.signal !== undefined && !(given.signal instanceof AbortSignal)) {
    throw invalidArgType(`${name}.signal`, 'an instance of AbortSignal', given.signal);
  }
  return { attempts, minDelay, maxDelay, signal: given.signal };
}

/**
 * The wait after failed attempt `attempt` (from 1): a random point between
 * minDelay and an exponentially growing cap (minDelay·2^(attempt-1), at most
 * maxDelay). The randomness spreads clients that lost the same server.
 */
export function retryDelay(policy: Pick<RetryPolicy, 'minDelay' | 'maxDelay'>, attempt: number, random = Math.random): number {
  const cap = Math.min(policy.maxDelay, policy.minDelay * 2 ** Math.min(attempt - 1, 52));
  return Math.round(policy.minDelay + random() * (cap - policy.minDelay));
}

interface Attemptable extends EventEmitter {
  readonly destroyed: boolean;
  readonly connecting: boolean;
  destroy(error?: Error): unknown;
}

/**
 * One connect()'s retry state. The socket's connect path reports each failed
 * attempt to failed(); a true answer means a retry is scheduled and `again`
 * will run after the delay (or never, if the socket is destroyed first).
 */
export class ConnectRetrier {
  private attempt = 1; // the attempt in flight, or the last one made while waiting
  private timer: NodeJS.Timeout | undefined;
  private refed = true;
  private readonly onAbort = (): void => {
    if (this.socket.connecting && !this.socket.destroyed) {
      this.socket.destroy(Object.assign(abortError(this.policy.signal as AbortSignal), { attempts: this.attempt }));
    }
  };

  constructor(
    private readonly socket: Attemptable,
    private readonly policy: RetryPolicy,
    private readonly random: () => number = Math.random,
  ) {
    policy.signal?.addEventListener('abort', this.onAbort, { once: true });
    const stop = (): void => this.cancel();
    socket.once('connect', stop);
    socket.once('close', stop);
  }

  /** Whether the retry signal fired already (checked before the first attempt). */
  get aborted(): boolean {
    return this.policy.signal?.aborted ?? false;
  }

  failed(error: HvsockSystemError & { attempts?: number }, again: () => void): boolean {
    error.attempts = this.attempt;
    if (this.socket.destroyed || this.attempt >= this.policy.attempts || !isRetryableConnectError(error)) return false;
    const delay = retryDelay(this.policy, this.attempt, this.random);
    const event: RetryEvent = { attempt: this.attempt, delay, error };
    this.socket.emit('retry', event);
    if (this.socket.destroyed) return true; // a 'retry' listener gave up
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.socket.destroyed) return;
      this.attempt += 1;
      again();
    }, delay);
    if (!this.refed) this.timer.unref();
    return true;
  }

  ref(): void {
    this.refed = true;
    this.timer?.ref();
  }

  unref(): void {
    this.refed = false;
    this.timer?.unref();
  }

  /** Stops a pending retry and forgets the signal (connected, or closed). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.policy.signal?.removeEventListener('abort', this.onAbort);
  }
}

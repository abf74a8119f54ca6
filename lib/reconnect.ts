// A persistent client: connect({ retry }) retries one connect; this keeps
// connecting again whenever the connection ends (server restarted, guest
// rebooted or restored from a snapshot), so a long-lived agent has one
// object to hold. vsock has no RST: a peer that goes away looks like a clean
// 'end', so every close of a connected socket counts as a disconnect.
import { EventEmitter } from 'node:events';
import { invalidArgType } from './errors';
import { pickRetryOptions, retryDelay, type RetryOptions, type RetryPolicy } from './retry';
import type { HybridSocket } from './hybrid/connect';
import { connect } from './connect';
import type { VsockSocket } from './handle/socket';
import type { ConnectOptions } from './options';

/** Options of createReconnectingClient(): connect()'s, with `retry` defaulting to unlimited attempts. */
export interface ReconnectingClientOptions extends Omit<ConnectOptions, 'retry' | 'signal'> {
  /** Retries of each (re)connect; attempts default to Infinity here. */
  retry?: RetryOptions;
  /** Closes the client for good. */
  signal?: AbortSignal;
}

/**
 * Events: 'connect' (socket) for each new connection; 'disconnect' (error |
 * undefined) when it ends; 'retry' ({ attempt, delay, error }) per failed
 * attempt; 'error' (error) when a connect gives up (non-retryable error or
 * attempts exhausted), followed by 'close'; 'close' once, also after close().
 */
export class ReconnectingClient extends EventEmitter {
  /** The current connection (connecting or connected), or null between connections. */
  socket: VsockSocket | HybridSocket | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly policy: RetryPolicy;
  private readonly connectOptions: ConnectOptions;
  /** Removes the abort listener: a long-lived signal must not keep closed clients alive. */
  private forgetSignal: (() => void) | undefined;

  constructor(options: ReconnectingClientOptions) {
    super();
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    const { signal, retry, ...rest } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
    }
    if (retry !== undefined && (retry === null || typeof retry !== 'object')) {
      throw invalidArgType('options.retry', 'of type object', retry);
    }
    this.policy = pickRetryOptions({ attempts: Infinity, ...retry }) as RetryPolicy;
    this.connectOptions = { ...rest, retry: this.policy };
    if (signal?.aborted) {
      // Validates the arguments; an aborted signal means no descriptor is made.
      connect({ ...this.connectOptions, signal }).once('error', () => undefined);
      this.closed = true;
      process.nextTick(() => this.emit('close'));
      return;
    }
    if (signal) {
      const onAbort = (): void => this.close();
      signal.addEventListener('abort', onAbort, { once: true });
      this.forgetSignal = () => signal.removeEventListener('abort', onAbort);
    }
    this.open(); // validates the address synchronously, as connect() does
  }

  private open(): void {
    // `retry` runs on the handle path only (connect() throws otherwise): a VsockSocket (a HybridSocket for udsPath).
    const socket = connect(this.connectOptions) as VsockSocket | HybridSocket;
    this.socket = socket;
    let connected = false;
    let lastError: Error | undefined;
    socket.on('retry', (event) => this.emit('retry', event));
    socket.on('error', (error: Error) => (lastError = error));
    socket.once('connect', () => {
      connected = true;
      this.emit('connect', socket);
    });
    socket.once('close', () => {
      if (this.socket === socket) this.socket = null;
      if (this.closed) return;
      if (!connected) {
        this.finish(lastError);
        return;
      }
      this.emit('disconnect', lastError);
      // A short jittered pause, so a server that accepts and drops at once is not hammered.
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          if (!this.closed) this.open();
        },
        retryDelay(this.policy, 1),
      );
    });
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.forgetSignal?.();
    this.forgetSignal = undefined;
    if (error) this.emit('error', error);
    this.emit('close');
  }

  /** Stops reconnecting and destroys the current connection; 'close' follows. */
  close(): void {
    if (this.closed) return;
    const socket = this.socket;
    this.socket = null;
    this.finish();
    socket?.destroy();
  }
}

/** Creates a ReconnectingClient; `onConnect` is added as a 'connect' listener. *
 * @param options - connect()'s options (the address, `retry` with unlimited attempts by default, `signal` to stop).
 * @param onConnect - Called with each new socket.
 * @returns The client: events 'connect', 'disconnect', 'retry', 'error', 'close'; close() stops it.
 * @throws What connect() throws for bad options.
 * @example
 * ```js
 * const hvsock = require('hvsock');
 *
 * const client = hvsock.createReconnectingClient({ cid: 2, port: 5000 }, (socket) => socket.write('hello again\n'));
 * client.on('disconnect', (error) => console.log('lost the host', error?.code));
 * ```
 */
export function createReconnectingClient(
  options: ReconnectingClientOptions,
  onConnect?: (socket: VsockSocket | HybridSocket) => void,
): ReconnectingClient {
  if (onConnect !== undefined && typeof onConnect !== 'function') throw invalidArgType('onConnect', 'of type function', onConnect);
  const client = new ReconnectingClient(options);
  if (onConnect) client.on('connect', onConnect);
  return client;
}

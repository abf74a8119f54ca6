// connect({ retry }) policy with the kernel's answers scripted (fake binding:
// real socketpair descriptors, scripted SO_ERROR per attempt), plus the pure
// parts: option validation, backoff bounds, which errors are retryable.
import { getEventListeners, once } from 'node:events';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { installFakeBinding, useScriptedKernel } from './helpers/fake-binding';
import { hvsock } from './helpers/hvsock';
import { readAll } from './helpers/streams';

const retry: typeof import('../lib/retry') = createRequire(__filename)('../dist/retry.js');

const script = useScriptedKernel(afterEach);

type RetryEvent = import('../lib/retry').RetryEvent;
const FAST = { minDelay: 1, maxDelay: 4 };

describe('retry policy', () => {
  it('delays grow exponentially from minDelay, are capped by maxDelay, and are jittered in between', () => {
    const policy = { minDelay: 100, maxDelay: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => retry.retryDelay(policy, n, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 3, 4].map((n) => retry.retryDelay(policy, n, () => 0))).toEqual([100, 100, 100, 100]);
    expect(retry.retryDelay(policy, 3, () => 0.5)).toBe(250);
    expect(retry.retryDelay(policy, 2000, () => 1)).toBe(1000); // no overflow on huge attempt numbers
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ENODEV', 'EHOSTUNREACH', 'ENETUNREACH'])('%s on connect is retryable', (code) => {
    expect(retry.isRetryableConnectError({ code, syscall: 'connect' })).toBe(true);
  });

  it.each([
    ['EACCES', 'connect'],
    ['EINVAL', 'connect'],
    ['EADDRNOTAVAIL', 'connect'],
    ['EAFNOSUPPORT', 'socket'],
    ['ECONNRESET', 'read'],
    ['EINVAL', 'setsockopt'],
  ])('%s on %s is not retryable', (code, syscall) => {
    expect(retry.isRetryableConnectError({ code, syscall })).toBe(false);
  });

  it('validates the retry option synchronously with typed errors', () => {
    const bad: [unknown, string][] = [
      ['yes', 'ERR_INVALID_ARG_TYPE'],
      [{ attempts: 0 }, 'ERR_OUT_OF_RANGE'],
      [{ attempts: 1.5 }, 'ERR_OUT_OF_RANGE'],
      [{ attempts: '3' }, 'ERR_INVALID_ARG_TYPE'],
      [{ minDelay: -1 }, 'ERR_OUT_OF_RANGE'],
      [{ maxDelay: 2 ** 31 }, 'ERR_OUT_OF_RANGE'],
      [{ minDelay: 500, maxDelay: 100 }, 'ERR_OUT_OF_RANGE'],
      [{ signal: {} }, 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [value, code] of bad) {
      expect(() => hvsock.connect({ cid: 3, port: 1, retry: value as never }), JSON.stringify(value)).toThrow(
        expect.objectContaining({ code }),
      );
    }
    expect(retry.pickRetryOptions(true)).toEqual({ attempts: 10, minDelay: 100, maxDelay: 5000 });
    expect(retry.pickRetryOptions({ attempts: Infinity, minDelay: 7000 })).toMatchObject({ attempts: Infinity, maxDelay: 7000 });
    expect(retry.pickRetryOptions(false)).toBeUndefined();
  });
});

describe('connect({ retry }) with scripted kernel answers', () => {
  it('retries refused/timed-out attempts on fresh descriptors, then connects as one socket', async () => {
    const kernel = script({ soError: [-111, -110, 0] });
    const socket = hvsock.connect({ cid: 3, port: 5000, retry: { attempts: 5, ...FAST } });
    const events: RetryEvent[] = [];
    socket.on('retry', (event: RetryEvent) => events.push(event));
    socket.write('early'); // buffered across attempts, sent once connected
    let connects = 0;
    socket.on('connect', () => connects++);
    await once(socket, 'connect');
    expect(events.map((e) => [e.attempt, e.error.code, e.error.syscall])).toEqual([
      [1, 'ECONNREFUSED', 'connect'],
      [2, 'ETIMEDOUT', 'connect'],
    ]);
    for (const event of events) expect(event.delay).toBeGreaterThanOrEqual(1);
    expect(kernel.calls.filter((c) => c.startsWith('socket('))).toHaveLength(3);
    const peer = new net.Socket({ fd: kernel.peerFd(), readable: true, writable: true });
    socket.end();
    expect((await readAll(peer)).toString()).toBe('early');
    peer.destroy();
    expect(connects).toBe(1);
  });

  it('a non-retryable error fails at once: no retry event, attempts 1, descriptor closed', async () => {
    const kernel = script({ soError: -13 });
    const socket = hvsock.connect({ cid: 3, port: 5000, retry: { attempts: 5, ...FAST } });
    const events: RetryEvent[] = [];
    socket.on('retry', (event: RetryEvent) => events.push(event));
    const [error] = await once(socket, 'error');
    expect(error).toMatchObject({ code: 'EACCES', syscall: 'connect', attempts: 1 });
    expect(events).toEqual([]);
    expect(kernel.calls.filter((c) => c.startsWith('socket('))).toHaveLength(1);
    expect(await kernel.allClosed()).toBe(true);
  });

  it('gives up after `attempts` with the last error and its attempt count, all descriptors closed', async () => {
    const kernel = script({ soError: [-104, -104, -111] });
    const socket = hvsock.connect({ cid: 3, port: 5000, retry: { attempts: 3, ...FAST } });
    let retries = 0;
    socket.on('retry', () => retries++);
    let closes = 0;
    socket.on('close', () => closes++);
    const [error] = await once(socket, 'error');
    expect(error).toMatchObject({ code: 'ECONNREFUSED', errno: -111, syscall: 'connect', attempts: 3, address: 'vsock://3:5000' });
    expect(retries).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closes).toBe(1);
    expect(await kernel.allClosed()).toBe(true);
  });

  it('retry.signal aborts during the backoff wait: AbortError with attempts, no further socket()', async () => {
    const kernel = script({ soError: -104 });
    const controller = new AbortController();
    const socket = hvsock.connect({ cid: 3, port: 5000, retry: { attempts: Infinity, minDelay: 10_000, signal: controller.signal } });
    await once(socket, 'retry');
    controller.abort();
    const [error] = await once(socket, 'error');
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', attempts: 1 });
    expect(kernel.calls.filter((c) => c.startsWith('socket('))).toHaveLength(1);
    expect(await kernel.allClosed()).toBe(true);
  });

  it('destroy() during the backoff cancels the pending attempt', async () => {
    const kernel = script({ soError: -104 });
    const socket = hvsock.connect({ cid: 3, port: 5000, retry: { attempts: 5, minDelay: 30, maxDelay: 30 } });
    await once(socket, 'retry');
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(kernel.calls.filter((c) => c.startsWith('socket('))).toHaveLength(1);
    expect(await kernel.allClosed()).toBe(true);
  });

  it('an already aborted retry.signal makes no descriptor', async () => {
    const kernel = script({});
    const socket = hvsock.connect({ cid: 3, port: 5000, retry: { signal: AbortSignal.abort() } });
    const [error] = await once(socket, 'error');
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(kernel.calls).toEqual([]);
  });

  it('leaves no descriptor open after retries end in failure', async () => {
    const before = readdirSync('/proc/self/fd').length;
    const { restore } = installFakeBinding({ soError: -111 }); // removed before counting: it holds the peers
    const socket = hvsock.connect({ cid: 3, port: 1, retry: { attempts: 4, ...FAST } });
    await once(socket, 'error').catch(() => undefined);
    restore();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });
});

describe('createReconnectingClient() with scripted kernel answers', () => {
  it('reconnects after the peer goes away, on a fresh descriptor', async () => {
    const kernel = script({ soError: 0 });
    const client = hvsock.createReconnectingClient({ cid: 3, port: 5000, retry: FAST });
    const [first] = await once(client, 'connect');
    expect(client.socket).toBe(first);
    const disconnected = once(client, 'disconnect');
    new net.Socket({ fd: kernel.peerFd(), readable: true, writable: true }).destroy(); // the peer closes
    await disconnected;
    const [second] = await once(client, 'connect');
    expect(second).not.toBe(first);
    expect(kernel.calls.filter((c) => c.startsWith('socket('))).toHaveLength(2);
    const closed = once(client, 'close');
    client.close();
    await closed;
    expect(second.destroyed).toBe(true);
    expect(client.socket).toBeNull();
  });

  it('a non-retryable failure ends it: error, then close, no reconnect', async () => {
    const kernel = script({ soError: -13 });
    const client = hvsock.createReconnectingClient({ cid: 3, port: 5000, retry: FAST });
    const events: string[] = [];
    client.on('error', (error) => events.push(`error ${error.code}`));
    await new Promise<void>((resolve) => client.on('close', () => resolve(void events.push('close'))));
    expect(events).toEqual(['error EACCES', 'close']);
    expect(kernel.calls.filter((c) => c.startsWith('socket('))).toHaveLength(1);
  });

  it('its signal closes it while it waits to retry; an aborted signal never connects', async () => {
    const kernel = script({ soError: -104 });
    const controller = new AbortController();
    const client = hvsock.createReconnectingClient({ cid: 3, port: 5000, retry: { minDelay: 10_000 }, signal: controller.signal });
    await once(client, 'retry');
    const closed = once(client, 'close');
    controller.abort();
    await closed;
    expect(await kernel.allClosed()).toBe(true);
    const early = hvsock.createReconnectingClient({ cid: 3, port: 5000, signal: AbortSignal.abort() });
    await once(early, 'close');
    expect(kernel.calls.filter((c) => c.startsWith('socket('))).toHaveLength(1);
  });

  it('close() and a final error remove its listener from the signal (a long-lived signal keeps no closed client)', async () => {
    script({ soError: -13 }); // EACCES: not retryable, the client ends with 'error'
    const controller = new AbortController();
    const closedByCall = hvsock.createReconnectingClient({ cid: 3, port: 5000, signal: controller.signal });
    const endedByError = hvsock.createReconnectingClient({ cid: 3, port: 5000, signal: controller.signal });
    endedByError.on('error', () => undefined);
    const ended = new Promise((resolve) => endedByError.once('close', resolve));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(2);
    const closed = once(closedByCall, 'close');
    closedByCall.close();
    await closed;
    await ended;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('validates its options synchronously', () => {
    expect(() => hvsock.createReconnectingClient(null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => hvsock.createReconnectingClient({ cid: 3, port: 1, retry: true as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => hvsock.createReconnectingClient({ cid: 3, port: 1, retry: { attempts: 0 } })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => hvsock.createReconnectingClient({ cid: 3, port: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => hvsock.createReconnectingClient({ cid: 3, port: 1 }, 'x' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});

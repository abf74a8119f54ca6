// Reconnecting over real AF_VSOCK in the rig's guest: a client started
// before its server, a server restarted under a persistent client, giving up,
// and aborting. vsock_loopback answers a connect with no listener with
// ECONNRESET, which is what these retries ride on.
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from './helpers/guest';
import { hvsock } from './helpers/hvsock';
import { freshPort } from './helpers/streams';

const { Cid } = hvsock;
type RetryEvent = import('../lib/retry').RetryEvent;
type Server = ReturnType<typeof hvsock.createServer>;

beforeAll(() => assertInTestGuest());

/** An echo server tagging replies; stop() closes it and drops its connections (a crash, as the client sees it). */
async function echoServer(port: number, tag: string): Promise<Server & { stop(): Promise<void> }> {
  const accepted = new Set<import('node:net').Socket>();
  const server = hvsock.createServer((socket) => {
    accepted.add(socket);
    socket.on('data', (d) => socket.write(`${tag}:${d}`)).on('error', () => undefined);
  });
  server.listen({ port });
  await once(server, 'listening');
  return Object.assign(server, {
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of accepted) socket.destroy();
      }),
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('connect({ retry })', () => {
  it('a client started before its server connects once the server appears; early writes arrive', async () => {
    const port = freshPort();
    const client = hvsock.connect({ cid: Cid.LOCAL, port, retry: { attempts: 100, minDelay: 50, maxDelay: 200 } });
    const events: RetryEvent[] = [];
    client.on('retry', (event: RetryEvent) => events.push(event));
    client.write('early');
    await once(client, 'retry');
    await sleep(300);
    const server = await echoServer(port, 'late');
    await once(client, 'connect');
    const [data] = await once(client, 'data');
    expect(String(data)).toBe('late:early');
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.every((e) => e.error.code === 'ECONNRESET' && e.error.syscall === 'connect')).toBe(true);
    expect(events.map((e) => e.attempt)).toEqual(events.map((_, i) => i + 1));
    expect(client.remotePort).toBe(port);
    client.destroy();
    server.close();
  });

  it('gives up after `attempts` with the last real error and the count', async () => {
    await sleep(100); // earlier tests' descriptors finish closing
    const before = readdirSync('/proc/self/fd').length;
    const client = hvsock.connect({ cid: Cid.LOCAL, port: freshPort(), retry: { attempts: 3, minDelay: 10, maxDelay: 20 } });
    let retries = 0;
    client.on('retry', () => retries++);
    const [error] = await once(client, 'error');
    expect(error).toMatchObject({ code: 'ECONNRESET', syscall: 'connect', attempts: 3 });
    expect(retries).toBe(2);
    await sleep(50);
    expect(readdirSync('/proc/self/fd').length).toBe(before); // every attempt's descriptor closed
  });

  it('retry.signal stops a client waiting for a server that never comes', async () => {
    const controller = new AbortController();
    const client = hvsock.connect({
      cid: Cid.LOCAL,
      port: freshPort(),
      retry: { attempts: Infinity, minDelay: 20, signal: controller.signal },
    });
    await once(client, 'retry');
    await once(client, 'retry');
    controller.abort();
    const [error] = await once(client, 'error');
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(error.attempts).toBeGreaterThanOrEqual(2);
    expect(client.destroyed).toBe(true);
  });
});

describe('createReconnectingClient()', () => {
  it('survives a server restart mid-session: disconnect, retries while it is down, reconnects', async () => {
    const port = freshPort();
    let server = await echoServer(port, 'first');
    const client = hvsock.createReconnectingClient({ cid: Cid.LOCAL, port, retry: { minDelay: 50, maxDelay: 200 } });
    const seen: string[] = [];
    client.on('retry', () => seen.push('retry'));
    client.on('disconnect', () => seen.push('disconnect'));
    const [first] = await once(client, 'connect');
    first.write('a');
    expect(String((await once(first, 'data'))[0])).toBe('first:a');

    // Restart: the server goes away with the connection open (vsock shows it as a clean end).
    const disconnected = once(client, 'disconnect');
    await server.stop();
    await disconnected;
    await sleep(300); // down for a while: attempts fail with ECONNRESET
    server = await echoServer(port, 'second');
    const [second] = await once(client, 'connect');
    expect(second).not.toBe(first);
    second.write('b');
    expect(String((await once(second, 'data'))[0])).toBe('second:b');
    expect(seen[0]).toBe('disconnect');
    expect(seen.filter((s) => s === 'retry').length).toBeGreaterThanOrEqual(1);
    const onClose = once(client, 'close');
    client.close();
    await onClose;
    expect(second.destroyed).toBe(true);
    server.close();
  });
});

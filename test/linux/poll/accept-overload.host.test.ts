// A poll-path server whose accept4 fails with EMFILE (descriptor table
// full) must stay bounded, as Node's own accept path does (libuv's
// uv__emfile_trick): no busy loop, no flood of 'error' events, queued peers
// told at once (their connection closes), and accepting again once
// descriptors are free. Real EMFILE, on the host: the server runs in a child
// (test/fixtures/emfile-server.js) under a low `ulimit -n`, accepting on an
// AF_UNIX listener that stands in for the vsock one; nothing here touches
// AF_VSOCK.
import { once } from 'node:events';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closed, deadline, startEmfileServer, trackClose, type EmfileChild, type EmfileServer } from '../../helpers/emfile';

const CLIENTS = 8;

let child: EmfileChild | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

/** The fixture on a fresh abstract AF_UNIX listener (its fd 3). */
async function startServer(env: NodeJS.ProcessEnv = {}): Promise<EmfileServer & { address: string }> {
  const address = `\0hvsock-emfile-${process.pid}-${Math.random().toString(16).slice(2)}`;
  const holder = net.createServer();
  holder.listen(address);
  await once(holder, 'listening');
  const fd = (holder as unknown as { _handle: { fd: number } })._handle.fd;
  const started = startEmfileServer({ env, listenerFd: fd });
  child = started.child;
  holder.close(); // the child's copy keeps the kernel's listener (abstract: no file to unlink)
  return { ...started, address };
}

function connectTo(address: string): Promise<net.Socket> {
  const socket = trackClose(net.connect(address));
  socket.on('error', () => undefined);
  return once(socket, 'connect').then(() => socket);
}

describe('poll server under EMFILE (real descriptor exhaustion, AF_UNIX stand-in)', () => {
  it('stays bounded (CPU, error count), closes the queued peers, and accepts again once descriptors are free', async () => {
    const { child: server, address, next } = await startServer();
    await next('exhausted');
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connectTo(address)));
    const report = await next('report');
    console.log(`EMFILE window: ${JSON.stringify(report)}`);
    // Before the fix the server spun: one 'error' per loop turn (tens of
    // thousands a second) at a full core.
    expect(report.errors).toBeGreaterThanOrEqual(1); // told once: the overload is not silent
    expect(report.errors).toBeLessThanOrEqual(3);
    expect(report.lastError).toMatchObject({ code: 'EMFILE', syscall: 'accept' });
    expect(report.cpuMs as number).toBeLessThan(0.25 * (report.wallMs as number));
    expect(report.accepted).toBe(0);
    // Shed like libuv: every queued peer sees its connection closed.
    await Promise.race([Promise.all(clients.map(closed)), deadline(5000, 'queued peers not closed by the server within 5 s')]);
    // Recovery: descriptors freed, a new peer is served (within the backoff).
    server.stdin.write('free\n');
    await next('freed');
    const peer = await connectTo(address);
    peer.write('hello');
    const [echoed] = (await Promise.race([once(peer, 'data'), deadline(5000, 'no echo within 5 s after freeing descriptors')])) as [Buffer];
    expect(echoed.toString()).toBe('hello');
    peer.destroy();
    server.stdin.end();
    await once(server, 'exit');
    expect(server.exitCode).toBe(0);
  });

  it('without a reserve descriptor: pauses and retries (bounded), then serves the peers still queued', async () => {
    const { child: server, address, next } = await startServer({ EMFILE_NO_RESERVE: '1' });
    await next('exhausted');
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connectTo(address)));
    const report = await next('report');
    console.log(`EMFILE window, no reserve: ${JSON.stringify(report)}`);
    expect(report.errors).toBeGreaterThanOrEqual(1);
    expect(report.errors).toBeLessThanOrEqual(3);
    expect(report.cpuMs as number).toBeLessThan(0.25 * (report.wallMs as number));
    expect(clients.every((socket) => !socket.destroyed)).toBe(true); // still queued: nothing could shed them
    server.stdin.write('free\n');
    await next('freed');
    const echoes = clients.map(async (socket, i) => {
      socket.write(`client ${i}`);
      const [data] = (await once(socket, 'data')) as [Buffer];
      return data.toString();
    });
    const got = await Promise.race([Promise.all(echoes), deadline(5000, 'queued peers not served within 5 s of freeing descriptors')]);
    expect(got).toEqual(clients.map((_, i) => `client ${i}`));
    for (const socket of clients) socket.destroy();
    server.stdin.end();
    await once(server, 'exit');
  });
});

// A poll-path server whose accept4 fails with EMFILE (descriptor table
// full) must stay bounded, as Node's own accept path does (libuv's
// uv__emfile_trick): no busy loop, no flood of 'error' events, queued peers
// told at once (their connection closes), and accepting again once
// descriptors are free. Real EMFILE, on the host: the server runs in a child
// (test/fixtures/emfile-server.js) under a low `ulimit -n`, accepting on an
// AF_UNIX listener that stands in for the vsock one; nothing here touches
// AF_VSOCK.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';

const FIXTURE = path.join(__dirname, 'fixtures', 'emfile-server.js');
const CLIENTS = 8;

type Child = ChildProcessByStdio<Writable, Readable, null>;
let child: Child | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

/** Starts the fixture on a fresh abstract AF_UNIX listener; resolves with it and its event stream. */
async function startServer(env: NodeJS.ProcessEnv = {}): Promise<{ child: Child; address: string; next: (event: string) => Promise<Record<string, unknown>> }> {
  const address = `\0hvsock-emfile-${process.pid}-${Math.random().toString(16).slice(2)}`;
  const holder = net.createServer();
  holder.listen(address);
  await once(holder, 'listening');
  const fd = (holder as unknown as { _handle: { fd: number } })._handle.fd;
  // A low descriptor limit, so filling the table is quick; exec keeps fd 3.
  const started = spawn('sh', ['-c', 'ulimit -n 256 && exec "$0" "$@"', process.execPath, FIXTURE], {
    stdio: ['pipe', 'pipe', 'inherit', fd],
    env: { ...process.env, ...env },
  }) as unknown as Child;
  child = started;
  holder.close(); // the child's copy keeps the kernel's listener (abstract: no file to unlink)
  const events: Record<string, unknown>[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: started.stdout }).on('line', (line) => {
    events.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  const next = async (event: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const index = events.findIndex((e) => e.event === event);
      if (index >= 0) return events.splice(index, 1)[0];
      if (started.exitCode !== null) throw new Error(`fixture exited (${started.exitCode}) before '${event}'`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  started.once('exit', () => {
    for (const wake of waiters.splice(0)) wake();
  });
  return { child: started, address, next };
}

function connectTo(address: string): Promise<net.Socket> {
  const socket = net.connect(address);
  socket.on('error', () => undefined);
  return once(socket, 'connect').then(() => socket);
}

describe('poll server under EMFILE (real descriptor exhaustion, AF_UNIX stand-in)', () => {
  it('stays bounded (CPU, error count), closes the queued peers, and accepts again once descriptors are free', async () => {
    const { child: server, address, next } = await startServer();
    await next('exhausted');
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connectTo(address)));
    const closedAt = clients.map((socket) => {
      const start = Date.now();
      return new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - start)));
    });
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
    const waited = await Promise.race([Promise.all(closedAt), new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000))]);
    expect(waited, 'queued peers closed by the server').not.toBeNull();
    // Recovery: descriptors freed, a new peer is served (within the backoff).
    server.stdin.write('free\n');
    await next('freed');
    const peer = await connectTo(address);
    peer.write('hello');
    const [echoed] = (await Promise.race([
      once(peer, 'data'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no echo within 5 s after freeing descriptors')), 5000)),
    ])) as [Buffer];
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
    const got = await Promise.race([
      Promise.all(echoes),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('queued peers not served within 5 s of freeing descriptors')), 5000)),
    ]);
    expect(got).toEqual(clients.map((_, i) => `client ${i}`));
    for (const socket of clients) socket.destroy();
    server.stdin.end();
    await once(server, 'exit');
  });
});

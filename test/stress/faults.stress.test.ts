// Faults on real vsock (CID 1) in the rig's guest that test/socket.test.ts,
// server.test.ts and lifecycle.test.ts do not cover: a peer process killed
// with SIGKILL mid-transfer (both directions), destroy() while writing, a
// reader that destroys mid-transfer, and an accept flood past the backlog
// while the server process is stopped, and repeated descriptor exhaustion
// (EMFILE) on a poll-path server. Every failure must be a typed system
// error, and what was delivered must be an exact prefix of what was sent.
import { once } from 'node:events';
import type * as net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closed, deadline, startEmfileServer, trackClose } from '../helpers/emfile';
import { assertInTestGuest } from '../helpers/guest';
import { hvsock } from '../helpers/hvsock';
import { expectSystemError, figure, killAndReap, MiB, pattern, startFixture, sleep } from '../helpers/stress';
import { freshPort, listenOnFreshPort } from '../helpers/streams';

beforeAll(() => assertInTestGuest());

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function closeServer(server: { close(callback: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Outcome of a stream that ended or failed: how it ended, and whether 'close' came exactly once. */
function settle(socket: net.Socket): Promise<{ ended: boolean; error: Error | undefined; closes: number }> {
  let ended = false;
  let error: Error | undefined;
  let closes = 0;
  socket.on('end', () => (ended = true));
  socket.on('error', (e) => (error = e));
  socket.on('close', () => closes++);
  // Not events.once(): it rejects on 'error', and errors are outcomes here.
  // A second 'close' would arrive after the first: wait a little past it.
  return new Promise<void>((resolve) => socket.once('close', () => resolve()))
    .then(() => sleep(100))
    .then(() => ({ ended, error, closes }));
}

/** Writes pattern `seed` until the stream fails or closes; resolves with the bytes accepted by write(). */
function pumpUntilBroken(socket: net.Socket, seed: string): Promise<number> {
  const source = new pattern.Pattern(seed);
  let j = 0;
  return new Promise((resolve) => {
    const pump = (): void => {
      while (!socket.destroyed && socket.write(source.block(j++)));
      if (!socket.destroyed) socket.once('drain', pump);
    };
    socket.once('close', () => resolve(j * pattern.BLOCK));
    pump();
  });
}

describe('peer process killed with SIGKILL', () => {
  it('mid-transfer to us: what arrived is an exact prefix, then a clean end or a typed error', { timeout: 120_000 }, async () => {
    const seed = 'sigkill-writer';
    const verifier = new pattern.Verifier(seed);
    let accepted: net.Socket | undefined;
    const server = hvsock.createServer((socket) => {
      accepted = socket;
      socket.on('data', (chunk: Buffer) => verifier.push(chunk));
    });
    const port = await listenOnFreshPort(server);
    cleanups.push(() => closeServer(server));
    const { child } = await startFixture('stress-peer.js', [String(port), 'write', seed], 'connected');
    cleanups.push(() => killAndReap(child));
    while (verifier.offset < 8 * MiB) await sleep(20);
    const outcome = settle(accepted as net.Socket);
    await killAndReap(child, 'SIGKILL');
    const { ended, error, closes } = await outcome;
    figure('SIGKILLed writer: bytes verified before its death', verifier.offset);
    expect(verifier.mismatchAt).toBe(-1);
    expect(closes).toBe(1);
    if (error) expectSystemError(error, ['ECONNRESET', 'EPIPE']);
    else expect(ended).toBe(true);
  });

  it('mid-transfer from us: our writes fail with a typed error, never a crash or a hang', { timeout: 120_000 }, async () => {
    let accepted: net.Socket | undefined;
    const server = hvsock.createServer((socket) => (accepted = socket));
    const port = await listenOnFreshPort(server);
    cleanups.push(() => closeServer(server));
    const { child } = await startFixture('stress-peer.js', [String(port), 'read', '-'], 'connected');
    cleanups.push(() => killAndReap(child));
    while (!accepted) await sleep(10);
    const socket = accepted;
    const outcome = settle(socket);
    const written = pumpUntilBroken(socket, 'to-be-killed');
    while (socket.bytesWritten < 4 * MiB) await sleep(20);
    await killAndReap(child, 'SIGKILL');
    const { error, closes } = await outcome;
    figure('writing to a SIGKILLed reader: bytes written before the error', {
      written: await written,
      error: error && (error as NodeJS.ErrnoException).code,
    });
    // vsock has no RST: the kill looks like an orderly close, and our next
    // write is refused (EPIPE), or the reset is seen first (ECONNRESET).
    expectSystemError(error, ['EPIPE', 'ECONNRESET']);
    expect(closes).toBe(1);
  });
});

describe('destroy() mid-transfer', () => {
  it(
    'destroy() while writing: the peer gets an exact prefix and an end; the writer closes once, with no error',
    { timeout: 120_000 },
    async () => {
      const seed = 'destroy-while-writing';
      const verifier = new pattern.Verifier(seed);
      let peerOutcome: ReturnType<typeof settle> | undefined;
      const server = hvsock.createServer((socket) => {
        peerOutcome = settle(socket);
        socket.on('data', (chunk: Buffer) => verifier.push(chunk));
      });
      const port = await listenOnFreshPort(server);
      cleanups.push(() => closeServer(server));
      const client = hvsock.connect({ cid: hvsock.Cid.LOCAL, port });
      const clientOutcome = settle(client);
      await once(client, 'connect');
      const written = pumpUntilBroken(client, seed);
      while (client.bytesWritten < 4 * MiB) await sleep(5);
      client.destroy();
      client.destroy(); // twice, mid-write
      const late = await new Promise<Error | null | undefined>((resolve) => client.write(Buffer.alloc(1), resolve));
      expect((late as NodeJS.ErrnoException | undefined)?.code).toBe('ERR_STREAM_DESTROYED');
      const { error, closes } = await clientOutcome;
      expect(error).toBeUndefined();
      expect(closes).toBe(1);
      await written;
      const peer = await (peerOutcome as ReturnType<typeof settle>);
      figure('destroyed writer: bytes the peer verified', verifier.offset);
      expect(verifier.mismatchAt).toBe(-1);
      expect(verifier.offset).toBeGreaterThan(0);
      expect(peer.closes).toBe(1);
      if (peer.error) expectSystemError(peer.error, ['ECONNRESET']);
      else expect(peer.ended).toBe(true);
    },
  );

  it('the reader destroys mid-transfer: the writer gets a typed error and closes once', { timeout: 120_000 }, async () => {
    const server = hvsock.createServer((socket) => {
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > 2 * MiB) socket.destroy();
      });
    });
    const port = await listenOnFreshPort(server);
    cleanups.push(() => closeServer(server));
    const client = hvsock.connect({ cid: hvsock.Cid.LOCAL, port });
    const outcome = settle(client);
    await once(client, 'connect');
    const written = await pumpUntilBroken(client, 'reader-destroys');
    const { error, closes } = await outcome;
    figure('writer after the reader destroyed: bytes written', { written, error: (error as NodeJS.ErrnoException | undefined)?.code });
    expectSystemError(error, ['EPIPE', 'ECONNRESET']);
    expect(closes).toBe(1);
  });
});

describe('accept flood past the backlog', () => {
  it('with the server process stopped: connects fail typed, the queued ones work, the server survives', { timeout: 180_000 }, async () => {
    const port = freshPort();
    const backlog = 8;
    const flood = 100;
    const { child, stderr } = await startFixture('stress-server.js', [String(port), String(backlog)], 'listening');
    cleanups.push(() => killAndReap(child));
    child.kill('SIGSTOP');
    try {
      const attempts = await Promise.all(
        Array.from({ length: flood }, () => {
          const socket = hvsock.connect({ cid: hvsock.Cid.LOCAL, port });
          return new Promise<{ socket: net.Socket; error?: Error }>((resolve) => {
            socket.once('connect', () => resolve({ socket }));
            socket.once('error', (error) => resolve({ socket, error }));
          });
        }),
      );
      const failed = attempts.filter((a) => a.error);
      const connected = attempts.filter((a) => !a.error);
      const codes = [...new Set(failed.map((a) => (a.error as NodeJS.ErrnoException).code))];
      figure('accept flood (backlog 8, server stopped)', { attempts: flood, connected: connected.length, failed: failed.length, codes });
      for (const { error } of failed) expectSystemError(error, ['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED']);
      expect(failed.length).toBeGreaterThan(0);
      expect(connected.length).toBeGreaterThan(0);
      child.kill('SIGCONT');
      // Every connection the kernel queued is served once the server runs again.
      await Promise.all(
        connected.map(async ({ socket }, i) => {
          socket.end(`queued ${i}`);
          const chunks: Buffer[] = [];
          for await (const chunk of socket) chunks.push(chunk as Buffer);
          expect(Buffer.concat(chunks).toString()).toBe(`queued ${i}`);
        }),
      );
      // And it still accepts new ones.
      const fresh = hvsock.connect({ cid: hvsock.Cid.LOCAL, port });
      fresh.end('after the flood');
      const reply: Buffer[] = [];
      for await (const chunk of fresh) reply.push(chunk as Buffer);
      expect(Buffer.concat(reply).toString()).toBe('after the flood');
      expect(child.exitCode).toBeNull();
      expect(stderr()).toBe('');
    } finally {
      child.kill('SIGCONT');
    }
  });
});

describe('repeated descriptor exhaustion (EMFILE) on a poll-path server', () => {
  it('every episode stays bounded and recovers; no descriptor leaks across episodes', { timeout: 300_000 }, async () => {
    const EPISODES = 5;
    const CLIENTS = 16;
    const port = freshPort();
    const server = startEmfileServer({ env: { EMFILE_PORT: String(port), EMFILE_SERVER: 'poll', EMFILE_WINDOW_MS: '3000' } });
    cleanups.push(() => server.child.kill('SIGKILL'));
    const connectOne = async (): Promise<net.Socket> => {
      const socket = trackClose(hvsock.connect({ cid: hvsock.Cid.LOCAL, port, io: 'poll' }) as net.Socket);
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      return socket;
    };
    const openAfterFree: number[] = [];
    for (let episode = 0; episode < EPISODES; episode++) {
      if (episode > 0) server.child.stdin.write('exhaust\n');
      await server.next('exhausted');
      const queued = await Promise.all(Array.from({ length: CLIENTS }, connectOne));
      const shed = Promise.all(queued.map((socket) => (socket.resume(), closed(socket))));
      const report = await server.next('report');
      figure(`EMFILE episode ${episode + 1}`, JSON.stringify(report));
      expect(report.errors).toBeLessThanOrEqual(3);
      expect(report.cpuMs as number).toBeLessThan(0.5 * (report.wallMs as number));
      const within = <T>(step: Promise<T>, what: string): Promise<T> =>
        Promise.race([step, deadline(30_000, `episode ${episode + 1}: ${what}`)]);
      await within(shed, 'queued peers not closed (shed)'); // every queued peer was told
      server.child.stdin.write('free\n');
      openAfterFree.push((await within(server.next('freed'), "no 'freed'")).openFds as number);
      const served = await within(Promise.all(Array.from({ length: CLIENTS }, connectOne)), 'connects after free');
      await within(
        Promise.all(
          served.map(async (socket, i) => {
            socket.write(`episode ${episode} client ${i}`);
            const [data] = (await once(socket, 'data')) as [Buffer];
            expect(data.toString()).toBe(`episode ${episode} client ${i}`);
            socket.end();
            await closed(socket);
          }),
        ),
        'echo after free',
      );
    }
    figure('EMFILE episodes: server descriptors after each free', openAfterFree.join(' '));
    // The reserve and the shed connections are closed every time: the count does not grow.
    expect(Math.max(...openAfterFree) - openAfterFree[0]).toBeLessThanOrEqual(CLIENTS);
    expect(openAfterFree[EPISODES - 1]).toBeLessThanOrEqual(openAfterFree[1] ?? openAfterFree[0]);
    server.child.stdin.end();
    await once(server.child, 'exit');
  });
});

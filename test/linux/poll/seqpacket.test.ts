// SOCK_SEQPACKET message sockets over real AF_VSOCK (CID 1, vsock_loopback,
// Linux 6.1) in the rig's guest: boundaries, order, backpressure, oversize
// messages, end/close, errors.
import { createHash, pbkdf2, randomBytes } from 'node:crypto';
import * as dns from 'node:dns';
import { once } from 'node:events';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from '../../helpers/guest';
import { hvsock } from '../../helpers/hvsock';
import { freshPort } from '../../helpers/streams';
import { expectWorkerLeftNoFds } from '../../helpers/worker-fixtures';

import type { SeqpacketServer } from '../../../lib/index';

type Message = InstanceType<typeof hvsock.SeqpacketSocket>;
const load = createRequire(__filename);
// The same module instances the package uses (require('hvsock') resolves to dist/ too).
const bindingModule: typeof import('../../../lib/binding') = load('../../../dist/binding.js');
const pollCommon: typeof import('../../../lib/linux/poll/common') = load('../../../dist/linux/poll/common.js');

// Descriptors: test/setup/fd-check.ts compares this file's before/after lists
// (sockets only in a worker thread, as under the sanitizer run's threads pool).
beforeAll(() => assertInTestGuest());

async function listen(
  onConnection?: (socket: Message) => void,
  options: Record<string, unknown> = {},
): Promise<{ server: SeqpacketServer; port: number }> {
  const server = hvsock.createServer({ type: 'seqpacket', ...options }, onConnection);
  const port = freshPort();
  server.listen({ port });
  await once(server, 'listening');
  return { server, port };
}

async function connect(port: number, options: Record<string, unknown> = {}): Promise<Message> {
  const socket = hvsock.connect({ cid: hvsock.Cid.LOCAL, port, type: 'seqpacket', ...options });
  await once(socket, 'connect');
  return socket;
}

// Echoes every message back as it came.
const echo = (socket: Message): void => {
  socket.on('message', (message) => socket.send(message));
};

function closeServer(server: SeqpacketServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A promise and its resolve function. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves with `promise`'s value, or rejects once `ms` pass (a stall fails the test instead of hanging it). */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Collects `count` messages. */
function collect(socket: Message, count: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    const onMessage = (message: Buffer): void => {
      got.push(message);
      if (got.length === count) {
        socket.off('message', onMessage);
        resolve(got);
      }
    };
    socket.on('message', onMessage);
    socket.once('error', reject);
  });
}

describe('seqpacket connect() / createServer()', () => {
  it('gives message sockets with vsock addresses on both ends', async () => {
    const accepted = deferred<Message>();
    const { server, port } = await listen(accepted.resolve);
    expect(server).toBeInstanceOf(hvsock.PollServer);
    expect(server.address()).toMatchObject({ family: 'vsock', port, cid: hvsock.Cid.ANY });
    const client = await connect(port);
    const peer = await accepted.promise;
    expect(client).toBeInstanceOf(hvsock.SeqpacketSocket);
    expect(peer).toBeInstanceOf(hvsock.SeqpacketSocket);
    expect(client).toMatchObject({ remoteCid: 1, remotePort: port, remoteFamily: 'vsock', remoteAddress: '1' });
    expect(peer.localPort).toBe(port);
    expect(peer.remotePort).toBe(client.localPort);
    expect(client.maxMessageSize).toBe(client.vsockBufferSize);
    client.destroy();
    peer.destroy();
    await closeServer(server);
  });

  it('preserves message boundaries for sizes from 1 B to 64 KiB, in order', async () => {
    const { server, port } = await listen(echo);
    const client = await connect(port);
    const sizes = [1, 2, 3, 7, 100, 1023, 1024, 1025, 4095, 4096, 4097, 32768, 65535, 65536];
    const sent = sizes.map((size) => randomBytes(size));
    const back = collect(client, sent.length);
    for (const message of sent) client.send(message);
    const got = await back;
    expect(got.map((m) => m.length)).toEqual(sizes);
    got.forEach((message, i) => expect(message.equals(sent[i])).toBe(true));
    client.destroy();
    await closeServer(server);
  });

  it('moves 10,000 messages of mixed sizes, checksummed, honouring drain', { timeout: 240_000 }, async () => {
    const count = 10_000;
    const received = deferred<{ n: number; digest: string; lengths: string }>();
    const { server, port } = await listen((socket) => {
      const hash = createHash('sha256');
      const lengths = createHash('sha256');
      let n = 0;
      socket.on('message', (message: Buffer) => {
        hash.update(message);
        lengths.update(`${message.length},`);
        n += 1;
        if (n === count) received.resolve({ n, digest: hash.digest('hex'), lengths: lengths.digest('hex') });
      });
    });
    const client = await connect(port);
    const hash = createHash('sha256');
    const lengths = createHash('sha256');
    const block = randomBytes(24_000);
    let falses = 0;
    for (let i = 0; i < count; i++) {
      // Sizes cycle through 1..20000, which do not divide the peer's 256 KiB buffer.
      const size = 1 + ((i * 7919) % 20_000);
      const message = block.subarray(i % 4000, (i % 4000) + size);
      hash.update(message);
      lengths.update(`${size},`);
      if (!client.send(message)) {
        falses += 1;
        await once(client, 'drain');
      }
    }
    const result = await received.promise;
    expect(result).toEqual({ n: count, digest: hash.digest('hex'), lengths: lengths.digest('hex') });
    expect(falses).toBeGreaterThan(0); // backpressure was exercised
    client.destroy();
    await closeServer(server);
  });

  it("keeps boundaries when the peer's credit runs out mid-message (paused receiver)", async () => {
    // 100000-byte messages do not divide the 256 KiB receive buffer: a
    // non-blocking send on Linux 6.1 would send part of the third one,
    // report EAGAIN, and a resend would merge them at the peer.
    let peer: Message | undefined;
    const { server, port } = await listen((socket) => {
      peer = socket;
      socket.pause();
    });
    const client = await connect(port);
    const sent = Array.from({ length: 6 }, () => randomBytes(100_000));
    const callbacks = sent.map((message) => new Promise<Error | null>((resolve) => client.send(message, resolve)));
    while (peer === undefined) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.pendingMessages).toBeGreaterThan(0); // the kernel is full: sends wait
    const got = collect(peer, sent.length);
    peer.resume();
    const messages = await got;
    expect(messages.map((m) => m.length)).toEqual(sent.map((m) => m.length));
    messages.forEach((message, i) => expect(message.equals(sent[i])).toBe(true));
    expect(await Promise.all(callbacks)).toEqual(sent.map(() => null));
    client.destroy();
    peer.destroy();
    await closeServer(server);
  });

  it("sends a message of exactly the peer's buffer size; one byte more fails alone with ERR_HVSOCK_MESSAGE_TOO_LARGE", async () => {
    const { server, port } = await listen(echo);
    const client = await connect(port);
    const size = client.vsockBufferSize as number; // both ends have the kernel default
    const whole = randomBytes(size);
    const back = collect(client, 1);
    client.send(whole);
    expect((await back)[0].equals(whole)).toBe(true);
    // The kernel refuses it: ENOMEM on 6.1 (EMSGSIZE on later kernels).
    const [error] = await new Promise<[Error | null]>((resolve) => client.send(randomBytes(size + 1), (e) => resolve([e])));
    expect(error).toMatchObject({ code: 'ERR_HVSOCK_MESSAGE_TOO_LARGE', size: size + 1, syscall: 'send' });
    expect([-12, -90]).toContain((error as unknown as { errno: number }).errno);
    // Without a callback it is an 'error' event; the connection stays up.
    client.send(randomBytes(size + 1));
    const [emitted] = await once(client, 'error');
    expect(emitted.code).toBe('ERR_HVSOCK_MESSAGE_TOO_LARGE');
    expect(client.destroyed).toBe(false);
    const after = collect(client, 1);
    client.send('still here');
    expect((await after)[0].toString()).toBe('still here');
    client.destroy();
    await closeServer(server);
  });

  it('end(): the peer gets its last message, then end; with allowHalfOpen it can still answer', async () => {
    const { server, port } = await listen((socket) => {
      const got: string[] = [];
      socket.on('message', (m: Buffer) => got.push(m.toString()));
      socket.on('end', () => socket.end(`got ${got.join('+')}`));
    });
    const client = await connect(port, { allowHalfOpen: true });
    const events: string[] = [];
    const answer = collect(client, 1);
    client.on('end', () => events.push('end')).on('close', (hadError: boolean) => events.push(`close:${hadError}`));
    client.send('a');
    client.end('b');
    expect((await answer)[0].toString()).toBe('got a+b');
    await once(client, 'close');
    expect(events).toEqual(['end', 'close:false']);
    expect(() => client.destroy()).not.toThrow(); // idempotent
    await closeServer(server);
  });

  it('send() after end() reports ERR_STREAM_WRITE_AFTER_END; close comes once', async () => {
    const { server, port } = await listen((socket) => socket.resume());
    const client = await connect(port);
    client.end();
    const [error] = await new Promise<[Error | null]>((resolve) => client.send('late', (e) => resolve([e])));
    expect(error).toMatchObject({ code: 'ERR_STREAM_WRITE_AFTER_END' });
    let closes = 0;
    client.on('close', () => closes++);
    await once(client, 'close');
    client.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closes).toBe(1);
    await closeServer(server);
  });

  it('destroy() while a send waits for credit returns at once and fails the queue', async () => {
    let peer: Message | undefined;
    const { server, port } = await listen((socket) => {
      peer = socket;
      socket.pause();
    });
    const client = await connect(port);
    const results = Array.from({ length: 5 }, () => new Promise<Error | null>((resolve) => client.send(randomBytes(100_000), resolve)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.destroy();
    await once(client, 'close');
    const errors = await Promise.all(results);
    expect(errors.slice(0, 2)).toEqual([null, null]);
    expect(errors.slice(3).every((e) => (e as { code?: string } | null)?.code === 'ERR_SOCKET_CLOSED')).toBe(true);
    peer?.destroy();
    await closeServer(server);
  });

  it('8 peers that never read stall only their own sockets: fs, dns.lookup, crypto and another socket keep working', async () => {
    const peers: Message[] = [];
    const stalled = await listen((socket) => {
      peers.push(socket);
      socket.pause();
    });
    const clients = await Promise.all(Array.from({ length: 8 }, () => connect(stalled.port)));
    const results = clients.flatMap((client) =>
      Array.from({ length: 4 }, () => new Promise<Error | null>((resolve) => client.send(Buffer.alloc(100_000), resolve))),
    );
    for (let waited = 0; waited < 5000 && clients.some((client) => client.pendingMessages > 2); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Two 100000-byte messages fill most of a peer's 256 KiB: the third waits in send().
    expect(clients.map((client) => client.pendingMessages)).toEqual(clients.map(() => 2));
    // Each of these needs a libuv threadpool thread (4 by default).
    await within(5000, 'fs.readFile', fs.readFile(__filename));
    await within(5000, 'dns.lookup', dns.promises.lookup('localhost'));
    await within(5000, 'crypto.pbkdf2', promisify(pbkdf2)('secret', 'salt', 1, 32, 'sha256'));
    const { server, port } = await listen(echo);
    const other = await connect(port);
    const back = collect(other, 1);
    other.send('through');
    expect(String((await within(5000, "another socket's echo", back))[0])).toBe('through');
    other.destroy();
    await closeServer(server);
    for (const client of clients) client.destroy();
    const errors = await within(5000, 'stalled sends after destroy()', Promise.all(results));
    expect(errors.filter((e) => e !== null)).toHaveLength(16);
    for (const peer of peers) peer.destroy();
    await closeServer(stalled.server);
  });

  it('a 0-byte send carries nothing on vsock, so a 0-byte receive is always the end', async () => {
    // The reason send() refuses empty messages and a 0-byte recvmsg() means
    // the peer shut down: the kernel (6.1) sends nothing for len 0.
    const peer = deferred<Message>();
    const { server, port } = await listen(peer.resolve);
    const client = await connect(port);
    const accepted = await peer.promise;
    const events: string[] = [];
    accepted.on('message', (m: Buffer) => events.push(`message ${m.length}`)).on('end', () => events.push('end'));
    const fd = client[pollCommon.kConnection]?.fd as number;
    expect(bindingModule.binding().writev!(fd, [Buffer.alloc(0)])).toBe(0);
    client.send('x');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events).toEqual(['message 1']);
    client.end();
    await once(accepted, 'end');
    expect(events).toEqual(['message 1', 'end']);
    await once(client, 'close');
    await closeServer(server);
  });

  it('validates send() arguments synchronously', async () => {
    const { server, port } = await listen();
    const client = await connect(port);
    expect(() => client.send(Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => client.send(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => client.send('x', 'nope' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => hvsock.connect({ cid: 1, port, type: 'dgram' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    client.destroy();
    await closeServer(server);
  });
});

describe('seqpacket failures', () => {
  it('no listener: ECONNRESET with the address, as for streams', async () => {
    const port = freshPort();
    const socket = hvsock.connect({ cid: hvsock.Cid.LOCAL, port, type: 'seqpacket' });
    const [error] = await once(socket, 'error');
    expect(error).toMatchObject({ code: 'ECONNRESET', errno: -104, syscall: 'connect', cid: 1, port, address: `vsock://1:${port}` });
    await once(socket, 'close');
  });

  it('a stream listener on the port: the seqpacket connect is reset', async () => {
    const stream = hvsock.createServer({ io: 'poll' });
    const port = freshPort();
    stream.listen({ port });
    await once(stream, 'listening');
    const socket = hvsock.connect({ cid: hvsock.Cid.LOCAL, port, type: 'seqpacket' });
    const [error] = await once(socket, 'error');
    expect(error).toMatchObject({ code: 'ECONNRESET', syscall: 'connect' });
    await new Promise((resolve) => stream.close(resolve));
  });

  it('EADDRINUSE for a busy port, and AbortSignal while connecting', async () => {
    const { server, port } = await listen();
    const second = hvsock.createServer({ type: 'seqpacket' });
    second.listen({ port });
    const [error] = await once(second, 'error');
    expect(error).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen', port });
    const controller = new AbortController();
    const socket = hvsock.connect({ cid: 1, port, type: 'seqpacket', signal: controller.signal });
    controller.abort();
    const [aborted] = await once(socket, 'error');
    expect(aborted).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await closeServer(server);
  });
});

describe('seqpacket lifecycle', () => {
  it('examples/seqpacket.js runs and prints each message whole', () => {
    const run = spawnSync(process.execPath, [path.join(__dirname, '..', '..', '..', 'examples', 'seqpacket.js'), String(freshPort())], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run).toMatchObject({ status: 0, stderr: '', stdout: 'message: "hello"\nmessage: 40000 bytes\nmessage: "bye"\n' });
  });

  it(
    'process.exit(), direct or in a SIGTERM handler, returns promptly with sends blocked (stream and seqpacket)',
    { timeout: 120_000 },
    async () => {
      const cases = ['stream', 'seqpacket'].flatMap((kind) => ['exit', 'sigterm'].map((how) => ({ kind, how })));
      const runs = await Promise.all(
        cases.map(({ kind, how }) => {
          // Under the sanitizer run, LeakSanitizer's exit-time scan takes tens
          // of seconds in the guest: what is timed here is exit itself, so the
          // children skip the leak scan (ASan's error checks stay on).
          const asan = process.env.ASAN_OPTIONS;
          const env = asan ? { ...process.env, ASAN_OPTIONS: `${asan}:detect_leaks=0` } : process.env;
          const child = spawn(
            process.execPath,
            [path.join(__dirname, '..', '..', 'fixtures', 'exit-blocked-sends.js'), String(freshPort()), how, kind],
            { env },
          );
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.stderr.on('data', (d) => (stderr += d));
          const started = Date.now();
          let blockedAt = 0;
          child.stdout.once('data', () => (blockedAt = Date.now()));
          // A hung exit may have SIGTERM handled: SIGKILL.
          const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
          return new Promise<Record<string, unknown>>((resolve) =>
            child.on('close', (status, signal) => {
              clearTimeout(killer);
              resolve({
                kind,
                how,
                status,
                signal,
                stdout,
                stderr,
                exitMs: blockedAt ? Date.now() - blockedAt : -1,
                totalMs: Date.now() - started,
              });
            }),
          );
        }),
      );
      for (const run of runs) {
        expect(run, JSON.stringify(run)).toMatchObject({ status: 7, signal: null, stdout: 'blocked\n', stderr: '' });
        expect(run.exitMs as number, JSON.stringify(run)).toBeLessThan(10_000); // under TCG; a hang is 60 s, then SIGKILL
      }
    },
  );

  it('a Worker terminated with sends blocked in the kernel: no crash, no hang, no leaked fds', () => {
    expectWorkerLeftNoFds('worker-seqpacket.js', String(freshPort()));
  });
});

// Hybrid vsock (lib/hybrid/) against the VMM-side muxer fixture with stand-in
// guests on Unix sockets: no AF_VSOCK anywhere, so it runs on the host. The
// same muxer bridges to real AF_VSOCK in test/hybrid/hybrid.test.ts (guest project).
import '../setup/fd-check'; // every descriptor opened here is closed by the end
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { Duplex } from 'node:stream';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hvsock } from '../helpers/hvsock';
import { tempDir, unixGuests, muxerModule, type Muxer, type Variant } from '../helpers/hybrid';
import { readAll } from '../helpers/streams';

type HybridSocket = import('../../lib/index').HybridSocket;
const GUID = '3049197c-9a4e-4fbf-9b2a-6d1b2c3e4f50';
const cli = path.join(__dirname, '..', '..', 'dist', 'cli.js');
const fixtures = path.join(__dirname, '..', 'fixtures');

const tmp = tempDir();
const guests = unixGuests(tmp.dir);
const muxers: Muxer[] = [];
let muxerCount = 0;
async function muxer(variant: Variant, options: { guestTimeout?: number; maxConnections?: number } = {}): Promise<Muxer> {
  muxerCount += 1;
  const created = await muxerModule.createMuxer({
    path: path.join(tmp.dir, `vm${muxerCount}.sock`),
    variant,
    guest: guests.bridge,
    ...options,
  });
  muxers.push(created);
  return created;
}
const echoOn = (service: number | string) => guests.serve(service, (socket) => socket.pipe(socket));

/** Resolves with the socket's error (and checks 'close' follows). */
async function failure(socket: net.Socket): Promise<Error & Record<string, unknown>> {
  const [error] = (await once(socket, 'error')) as [Error & Record<string, unknown>];
  if (!socket.closed) await once(socket, 'close');
  return error;
}

beforeAll(async () => {
  await echoOn(52);
  await echoOn(GUID);
});
afterAll(async () => {
  for (const created of muxers) await created.close();
  await guests.close();
  tmp.remove();
});

describe('hybrid endpoints: validation and URIs', () => {
  it('rejects bad requests synchronously with typed errors', () => {
    const udsPath = '/run/fc.sock';
    const bad: [unknown, string][] = [
      [{ udsPath: 5, port: 1 }, 'ERR_INVALID_ARG_TYPE'],
      [{ udsPath: '', port: 1 }, 'ERR_INVALID_ARG_VALUE'],
      [{ udsPath: 'a\0b', port: 1 }, 'ERR_INVALID_ARG_VALUE'],
      [{ udsPath }, 'ERR_INVALID_ARG_TYPE'],
      [{ udsPath, port: -1 }, 'ERR_OUT_OF_RANGE'],
      [{ udsPath, port: 2 ** 32 }, 'ERR_OUT_OF_RANGE'],
      [{ udsPath, port: 1.5 }, 'ERR_OUT_OF_RANGE'],
      [{ udsPath, port: '52' }, 'ERR_INVALID_ARG_TYPE'],
      [{ udsPath, serviceId: 'not-a-guid' }, 'ERR_INVALID_ARG_VALUE'],
      [{ udsPath, port: 1, serviceId: GUID }, 'ERR_INVALID_ARG_VALUE'],
      [{ udsPath, port: 1, cid: 3 }, 'ERR_INVALID_ARG_VALUE'],
      [{ udsPath, port: 1, bufferSize: 4096 }, 'ERR_INVALID_ARG_VALUE'],
      [{ udsPath, port: 1, connectTimeout: 0 }, 'ERR_OUT_OF_RANGE'],
      [{ udsPath, port: 1, connectTimeout: '1s' }, 'ERR_INVALID_ARG_TYPE'],
      [{ udsPath, port: 1, io: 'poll' }, 'ERR_INVALID_ARG_VALUE'],
      [{ udsPath, port: 1, type: 'seqpacket' }, 'ERR_INVALID_ARG_VALUE'],
      [{ udsPath, port: 1, retry: { attempts: 0 } }, 'ERR_OUT_OF_RANGE'],
      [{ udsPath, port: 1, signal: {} }, 'ERR_INVALID_ARG_TYPE'],
      [{ udsPath, port: 1, timeout: -1 }, 'ERR_OUT_OF_RANGE'],
    ];
    for (const [options, code] of bad) {
      expect(() => hvsock.connect(options as never), JSON.stringify(options)).toThrow(expect.objectContaining({ code }));
    }
    expect(() => hvsock.createServer().listen({ udsPath, port: 1, backlog: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => hvsock.createHttpAgent({ udsPath, port: 2 ** 32 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it("parses Kata's hvsock://<absolute path>:<port> and a service GUID, apart from hvsock://VMID/SERVICEID", () => {
    expect(hvsock.parseAddress('hvsock:///run/vc/kata.hvsock:1024')).toEqual({ udsPath: '/run/vc/kata.hvsock', port: 1024 });
    expect(hvsock.parseAddress(`hvsock:///var/a:b.sock:{${GUID.toUpperCase()}}`)).toEqual({ udsPath: '/var/a:b.sock', serviceId: GUID });
    expect(hvsock.parseAddress('hvsock://parent/5000')).toEqual({ vmId: hvsock.VmId.PARENT, serviceId: hvsock.serviceIdFromPort(5000) });
    for (const text of [
      'hvsock:///run/fc.sock',
      'hvsock:///run/fc.sock:',
      'hvsock:///run/fc.sock:x',
      'hvsock:///:5',
      'hvsock:///run/fc.sock:4294967296',
      'hvsock://run/fc.sock:5',
    ]) {
      expect(() => hvsock.parseAddress(text), text).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    for (const text of ['hvsock:///run/fc.sock:0', 'hvsock:///run/fc.sock:4294967295', `hvsock:///run/o.sock:${GUID}`]) {
      expect(hvsock.formatAddress(hvsock.parseAddress(text))).toBe(text);
    }
  });
});

describe('hybrid connect: the handshake per VMM variant', () => {
  it.each([
    ['firecracker', /^OK 10737418\d\d$/],
    ['cloud-hypervisor', /^OK 10737418\d\d$/],
    ['vhost-device-vsock', /^OK 52$/],
    ['openvmm', /^OK 52$/],
  ] as const)('%s: CONNECT 52, reply %s, then a plain net.Socket with hybrid getters', async (variant, reply) => {
    const vmm = await muxer(variant);
    const socket = hvsock.connect({ udsPath: vmm.path, port: 52 });
    expect(socket).toBeInstanceOf(net.Socket);
    expect(socket).toBeInstanceOf(hvsock.HybridSocket);
    expect(socket.connecting).toBe(true);
    await once(socket, 'connect');
    expect(socket.connecting).toBe(false);
    expect(socket.handshakeReply).toMatch(reply);
    expect(socket).toMatchObject({
      remoteAddress: vmm.path,
      remotePort: 52,
      remoteFamily: 'hybrid-vsock',
      remoteUdsPath: vmm.path,
      remoteServiceId: hvsock.serviceIdFromPort(52),
      remoteCid: undefined,
      connectTimeout: 10_000,
    });
    socket.write('ping');
    const [echoed] = await once(socket, 'data');
    expect(String(echoed)).toBe('ping');
    socket.destroy();
    expect(vmm.stats.commands).toEqual(['CONNECT 52']);
    expect(vmm.stats.earlyBytes).toBe(0);
  });

  it('firecracker hands out host-side ports from 2^30 up, one per connection', async () => {
    const vmm = await muxer('firecracker');
    const replies: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const socket = hvsock.connect({ udsPath: vmm.path, port: 52 });
      await once(socket, 'connect');
      replies.push(socket.handshakeReply as string);
      socket.destroy();
    }
    expect(replies).toEqual(['OK 1073741824', 'OK 1073741825', 'OK 1073741826']);
  });

  it('openvmm: CONNECT <service GUID> answered OK <GUID>; a VSOCK-template id goes out as its port', async () => {
    const vmm = await muxer('openvmm');
    const socket = hvsock.connect({ udsPath: vmm.path, serviceId: `{${GUID.toUpperCase()}}` });
    await once(socket, 'connect');
    expect(socket.handshakeReply).toBe(`OK ${GUID}`);
    expect(socket).toMatchObject({ remotePort: -1, remoteServiceId: GUID });
    socket.end('guid');
    expect((await readAll(socket)).toString()).toBe('guid');
    const templated = hvsock.connect(`hvsock://${vmm.path}:${hvsock.serviceIdFromPort(52)}`);
    await once(templated, 'connect');
    templated.destroy();
    expect(vmm.stats.commands).toEqual([`CONNECT ${GUID}`, 'CONNECT 52']);
  });

  it('no guest listener: the VMM closes without a reply → ECONNRESET "no guest listener on port N (or the VMM refused)"', async () => {
    const vmm = await muxer('firecracker');
    const error = await failure(hvsock.connect({ udsPath: vmm.path, port: 53 }));
    expect(error).toMatchObject({
      code: 'ECONNRESET',
      syscall: 'connect',
      udsPath: vmm.path,
      port: 53,
      address: `hvsock://${vmm.path}:53`,
    });
    expect(error.errno).toBeLessThan(0);
    expect(error.message).toBe(`connect ECONNRESET hvsock://${vmm.path}:53 (no guest listener on port 53 (or the VMM refused))`);
    expect(hvsock.isRetryableConnectError(error as { code?: unknown; syscall?: unknown })).toBe(true);
    expect(vmm.stats.refused).toBe(1);
  });

  it('a command the VMM rejects (a service GUID on Firecracker) is dropped without a reply', async () => {
    const vmm = await muxer('firecracker');
    const error = await failure(hvsock.connect({ udsPath: vmm.path, serviceId: GUID }));
    expect(error).toMatchObject({ code: 'ECONNRESET', serviceId: GUID });
    expect(error.message).toContain(`no guest listener on service ${GUID} (or the VMM refused)`);
    expect(vmm.stats.bad).toBe(1);
  });

  it('the muxer parses commands as the VMMs do (fixture fidelity)', async () => {
    const { parseCommand, VARIANTS } = muxerModule;
    expect(parseCommand('connect 52', VARIANTS.firecracker)).toEqual({ port: 52 });
    expect(parseCommand('CoNnEcT 4294967295', VARIANTS.firecracker)).toEqual({ port: 4294967295 });
    for (const line of ['CONNECT 4294967296', 'CONNECT -1', 'CONNECT', 'CONNECT  52', 'LISTEN 52', `CONNECT ${GUID}`]) {
      expect(parseCommand(line, VARIANTS.firecracker), line).toBeUndefined();
    }
    expect(parseCommand(`CONNECT ${GUID}`, VARIANTS.openvmm)).toEqual({ guid: GUID });
    // An over-long command (33 bytes, no newline yet) is dropped at once.
    const vmm = await muxer('firecracker');
    const raw = net.createConnection(vmm.path);
    raw.write(`CONNECT ${'0'.repeat(24)}52`);
    await once(raw, 'close');
    expect(vmm.stats.bad).toBe(1);
  });

  it('a silent guest: Firecracker gives up after 2 s and closes; that is the same retryable ECONNRESET', async () => {
    const vmm = await muxer('firecracker');
    guests.silent.add(60);
    const started = Date.now();
    const error = await failure(hvsock.connect({ udsPath: vmm.path, port: 60 }));
    const took = Date.now() - started;
    expect(error).toMatchObject({ code: 'ECONNRESET', port: 60 });
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(5000);
    expect(vmm.stats.timeouts).toBe(1);
  });

  it('a VMM that never answers: connectTimeout ends the handshake with ETIMEDOUT', async () => {
    const vmm = await muxer('vhost-device-vsock', { guestTimeout: 60_000 });
    guests.silent.add(61);
    const started = Date.now();
    const socket = hvsock.connect({ udsPath: vmm.path, port: 61, connectTimeout: 200 });
    expect(socket.connectTimeout).toBe(200);
    const error = await failure(socket);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'connect', port: 61 });
    expect(error.message).toMatch(/no answer to CONNECT 61 within 200 ms/);
  });

  it('no VMM socket: ENOENT with a hint, ECONNREFUSED for a stale file', async () => {
    const missing = await failure(hvsock.connect({ udsPath: path.join(tmp.dir, 'none.sock'), port: 1 }));
    expect(missing).toMatchObject({ code: 'ENOENT', syscall: 'connect' });
    expect(missing.message).toMatch(/no VMM socket at that path/);
    const stale = await staleSocketFile(path.join(tmp.dir, 'stale-vmm.sock'));
    expect(await failure(hvsock.connect({ udsPath: stale, port: 1 }))).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
  });

  it('at its connection limit Firecracker drops new connections at once: ECONNRESET', async () => {
    const vmm = await muxer('firecracker', { maxConnections: 3 });
    const held = await Promise.all(
      [0, 1, 2].map(async () => {
        const socket = hvsock.connect({ udsPath: vmm.path, port: 52 });
        await once(socket, 'connect');
        return socket;
      }),
    );
    expect(await failure(hvsock.connect({ udsPath: vmm.path, port: 52 }))).toMatchObject({ code: 'ECONNRESET' });
    expect(vmm.stats.dropped).toBe(1);
    for (const socket of held) socket.destroy();
  });
});

describe('hybrid connect: what users expect of a net.Socket', () => {
  it('writes and end() made before connect go out after OK, in order, never inside the handshake', async () => {
    const vmm = await muxer('cloud-hypervisor');
    const socket = hvsock.connect({ udsPath: vmm.path, port: 52, allowHalfOpen: true });
    const parts = ['one ', 'two ', 'three'];
    for (const part of parts) socket.write(part);
    socket.cork();
    socket.write(' corked');
    socket.uncork();
    socket.end(' end');
    const echoed = readAll(socket);
    await once(socket, 'connect');
    expect((await echoed).toString()).toBe('one two three corked end');
    expect(vmm.stats.commands).toEqual(['CONNECT 52']);
    expect(vmm.stats.earlyBytes).toBe(0);
  });

  it("keeps the guest's first bytes that arrive in the same read as OK, and a greeting before any write", async () => {
    await guests.serve(70, (socket) => socket.end('hello from the guest'));
    const vmm = await muxer('cloud-hypervisor');
    const socket = hvsock.connect({ udsPath: vmm.path, port: 70 });
    const events: string[] = [];
    socket.on('connect', () => events.push('connect'));
    socket.on('data', () => events.push('data'));
    expect((await readAll(socket)).toString()).toBe('hello from the guest');
    expect(events[0]).toBe('connect');
  });

  it('AbortSignal: aborted before, and while the VMM waits for a silent guest', async () => {
    const vmm = await muxer('firecracker', { guestTimeout: 60_000 });
    guests.silent.add(62);
    const aborted = AbortSignal.abort('early');
    const early = await failure(hvsock.connect({ udsPath: vmm.path, port: 62, signal: aborted }));
    expect(early).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    const controller = new AbortController();
    const socket = hvsock.connect({ udsPath: vmm.path, port: 62, signal: controller.signal });
    const written = new Promise((resolve) => socket.write('lost', resolve));
    setTimeout(() => controller.abort('late'), 50);
    expect(await failure(socket)).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(await written).toMatchObject({ code: 'ERR_SOCKET_CLOSED_BEFORE_CONNECTION' });
  });

  it('retry: keeps trying while the guest agent boots, then connects on the same socket', async () => {
    const vmm = await muxer('cloud-hypervisor');
    const socket = hvsock.connect({ udsPath: vmm.path, port: 71, retry: { minDelay: 20, maxDelay: 40, attempts: 100 } });
    socket.write('queued while retrying');
    const retries: { attempt: number; error: { code: string } }[] = [];
    socket.on('retry', (event) => {
      retries.push(event);
      if (retries.length === 3) void echoOn(71); // the agent comes up
    });
    await once(socket, 'connect');
    expect(retries.length).toBeGreaterThanOrEqual(3);
    expect(retries[0]).toMatchObject({ attempt: 1, error: { code: 'ECONNRESET' } });
    socket.end();
    expect((await readAll(socket)).toString()).toBe('queued while retrying');
  });

  it('retry waits for the VMM socket to appear (ENOENT), and gives up with the last error', async () => {
    const udsPath = path.join(tmp.dir, 'later.sock');
    const socket = hvsock.connect({ udsPath, port: 52, retry: { minDelay: 20, maxDelay: 20, attempts: 200 } });
    socket.once(
      'retry',
      () => void muxerModule.createMuxer({ path: udsPath, variant: 'firecracker', guest: guests.bridge }).then((m) => muxers.push(m)),
    );
    await once(socket, 'connect');
    socket.destroy();
    const gaveUp = await failure(hvsock.connect({ udsPath, port: 72, retry: { minDelay: 1, maxDelay: 2, attempts: 3 } }));
    expect(gaveUp).toMatchObject({ code: 'ECONNRESET', attempts: 3 });
  });

  it('createReconnectingClient reconnects after a snapshot restore / transport reset closed the connection', async () => {
    const vmm = await muxer('firecracker');
    const client = hvsock.createReconnectingClient({ udsPath: vmm.path, port: 52, retry: { minDelay: 10, maxDelay: 20 } });
    const [first] = (await once(client, 'connect')) as [HybridSocket];
    expect(first).toBeInstanceOf(hvsock.HybridSocket);
    vmm.reset(); // connections close, the listener stays
    await once(client, 'disconnect');
    const [second] = (await once(client, 'connect')) as [HybridSocket];
    second.write('after restore');
    const [echoed] = await once(second, 'data');
    expect(String(echoed)).toBe('after restore');
    const closed = once(client, 'close');
    client.close();
    await closed;
  });

  it('unref() lets the process exit while the handshake waits (child process)', async () => {
    const vmm = await muxer('firecracker', { guestTimeout: 60_000 });
    guests.silent.add(63);
    const script = `const s = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'index.js'))}).connect({ udsPath: ${JSON.stringify(vmm.path)}, port: 63 }); s.unref();`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const started = Date.now();
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('unref() also covers the wait between retries (child process)', async () => {
    const vmm = await muxer('firecracker');
    const script =
      `const s = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'index.js'))}).connect({ udsPath: ${JSON.stringify(vmm.path)}, port: 64, ` +
      `retry: { attempts: Infinity, minDelay: 300, maxDelay: 300 } }); s.on('retry', () => s.unref());`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill(), 8000);
    const [code, signal] = await once(child, 'exit');
    clearTimeout(timer);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
});

describe('half-close: what a user sees with each VMM', () => {
  // The guest answers with the byte count once the host's stream ends.
  beforeAll(async () => {
    await guests.serve(80, (socket) => {
      let received = 0;
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.on('end', () => socket.end(`${received}`));
    });
    await guests.serve(81, (socket) => {
      socket.end('bye'); // the guest ends first, then reads
      socket.on('data', () => undefined);
    });
  });

  it("firecracker: the host's end() closes the guest connection both ways: the guest's answer never comes", async () => {
    const vmm = await muxer('firecracker');
    const socket = hvsock.connect({ udsPath: vmm.path, port: 80, allowHalfOpen: true });
    socket.end('12345');
    expect((await readAll(socket)).toString()).toBe('');
  });

  it('cloud-hypervisor (2025) / vhost-device-vsock / openvmm: half-close works: the answer arrives after end()', async () => {
    for (const variant of ['cloud-hypervisor', 'vhost-device-vsock', 'openvmm'] as const) {
      const vmm = await muxer(variant);
      const socket = hvsock.connect({ udsPath: vmm.path, port: 80, allowHalfOpen: true });
      socket.end('12345');
      expect((await readAll(socket)).toString(), variant).toBe('5');
    }
  });

  it("firecracker: after the guest's end() an allowHalfOpen host can no longer write (EPIPE or the socket is gone)", async () => {
    const vmm = await muxer('firecracker');
    const socket = hvsock.connect({ udsPath: vmm.path, port: 81, allowHalfOpen: true });
    const errors: Error[] = [];
    socket.on('error', (error) => errors.push(error));
    expect((await readAll(socket)).toString()).toBe('bye');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const wrote = await new Promise<Error | null | undefined>((resolve) =>
      socket.destroyed ? resolve(new Error('destroyed')) : socket.write('after end', resolve),
    );
    expect(wrote).toBeTruthy();
    socket.destroy();
  });
});

describe('hybrid handshake fuzz: replies from a scripted VMM', () => {
  // A fake VMM that answers any CONNECT with `reply`, cut into `cuts` writes.
  async function scriptedVmm(udsPath: string, script: { reply: Buffer; cuts: number[]; closeAfter: boolean }) {
    const server = net.createServer({ allowHalfOpen: true }, async (socket) => {
      socket.on('error', () => undefined);
      socket.on('end', () => socket.destroy());
      socket.once('data', async () => {
        let at = 0;
        for (const cut of [...script.cuts, script.reply.length]) {
          const end = Math.min(script.reply.length, Math.max(at, cut));
          if (end > at && !socket.destroyed) socket.write(script.reply.subarray(at, end));
          at = end;
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (script.closeAfter) socket.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(udsPath, resolve));
    return server;
  }

  it('only typed errors, nothing lost after a valid OK line, no descriptor left', async () => {
    const printable = fc.stringMatching(/^[\x21-\x7e]{1,12}$/);
    const line = fc.oneof(
      fc.constantFrom('OK 1073741824', 'OK 52', `OK ${GUID}`, 'OK', 'OK 5\r', 'ok 5', 'NOK 5', 'OK5', 'ERROR', ''),
      printable.map((token) => `OK ${token}`),
      fc.string({ maxLength: 40 }),
    );
    const reply = fc.record({
      line,
      newline: fc.boolean(),
      data: fc.uint8Array({ maxLength: 300 }),
      long: fc.constantFrom(0, 0, 0, 200),
    });
    let count = 0;
    await fc.assert(
      fc.asyncProperty(reply, fc.array(fc.nat(400), { maxLength: 4 }), fc.boolean(), async (shape, cuts, closeAfter) => {
        count += 1;
        const udsPath = path.join(tmp.dir, `fuzz${count}.sock`);
        const text = shape.line + 'x'.repeat(shape.long);
        const bytes = Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from(shape.newline ? '\n' : ''), Buffer.from(shape.data)]);
        const server = await scriptedVmm(udsPath, { reply: bytes, cuts: [...cuts].sort((a, b) => a - b), closeAfter });
        const socket = hvsock.connect({ udsPath, port: 52, connectTimeout: 100, allowHalfOpen: true });
        const received: Buffer[] = [];
        let error: (Error & { code?: string }) | undefined;
        let connected = false;
        socket.on('connect', () => (connected = true));
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        socket.on('error', (e) => (error = e));
        socket.on('end', () => socket.destroy());
        if (!closeAfter) setTimeout(() => socket.destroy(), 150).unref();
        await new Promise((resolve) => socket.once('close', resolve));
        await new Promise<void>((resolve) => server.close(() => resolve()));
        // The oracle reads the bytes as sent: the first newline may come from
        // `data` (e.g. "OK !" then data starting with 0x0a is a valid line).
        const newlineAt = bytes.indexOf(0x0a);
        const firstLine = newlineAt < 0 ? '' : bytes.subarray(0, newlineAt).toString('latin1');
        const valid = newlineAt >= 0 && newlineAt + 1 <= 128 && /^OK(?:[ \t]+[\x21-\x7e]+)?[ \t]*\r?$/.test(firstLine);
        if (valid) {
          expect(connected).toBe(true);
          expect(Buffer.concat(received).equals(bytes.subarray(newlineAt + 1))).toBe(true);
          expect(error).toBeUndefined();
        } else {
          expect(connected).toBe(false);
          expect(error?.code).toMatch(/^(ERR_HVSOCK_HANDSHAKE|ECONNRESET|ETIMEDOUT)$/);
          expect(received).toEqual([]);
        }
      }),
      { numRuns: 120 },
    );
  }, 120_000);
});

/** A socket file nobody listens on: a child that listened and was killed. */
async function staleSocketFile(file: string): Promise<string> {
  const child = spawn(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(file)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  await once(child, 'exit');
  expect(statSync(file).isSocket()).toBe(true);
  return file;
}

describe('hybrid listen: guest-initiated connections on PATH_<port>', () => {
  it('serves PATH_<port>; the VMM bridges a guest connection in; the file is removed on close', async () => {
    const vmm = await muxer('firecracker');
    const server = hvsock.createServer((socket) => {
      expect(socket).toBeInstanceOf(hvsock.HybridSocket);
      socket.pipe(socket);
    });
    server.listen(`hvsock://${vmm.path}:1024`);
    await once(server, 'listening');
    expect(statSync(`${vmm.path}_1024`).isSocket()).toBe(true);
    expect(server.address()).toMatchObject({ family: 'hybrid-vsock', udsPath: vmm.path, port: 1024, path: `${vmm.path}_1024` });
    expect(hvsock.formatAddress(server.address() as never)).toBe(`hvsock://${vmm.path}:1024`);
    const [guestEnd, muxerEnd] = duplexPair();
    const accepted = once(server, 'connection');
    vmm.connectHost({ port: 1024 }, muxerEnd);
    const [socket] = (await accepted) as [HybridSocket];
    expect(socket.localServiceId).toBe(hvsock.serviceIdFromPort(1024));
    expect(socket.localPort).toBe(1024);
    guestEnd.write('from the guest');
    const [echoed] = await once(guestEnd, 'data');
    expect(String(echoed)).toBe('from the guest');
    guestEnd.destroy();
    await new Promise((resolve) => server.close(resolve));
    expect(existsSync(`${vmm.path}_1024`)).toBe(false);
  });

  it('nothing listening on PATH_<port>: the guest side is reset', async () => {
    const vmm = await muxer('firecracker');
    const [guestEnd, muxerEnd] = duplexPair();
    vmm.connectHost({ port: 1025 }, muxerEnd);
    guestEnd.resume();
    await once(guestEnd, 'end'); // vsock has no RST: the guest sees its connection end
    expect(muxerEnd.destroyed).toBe(true);
  });

  it('replaces a stale socket file, refuses a live one and a non-socket file', async () => {
    const udsPath = path.join(tmp.dir, 'lst.sock');
    await staleSocketFile(`${udsPath}_7`);
    const server = hvsock.createServer();
    server.listen({ udsPath, port: 7 });
    await once(server, 'listening');
    const second = hvsock.createServer();
    second.listen({ udsPath, port: 7 });
    const [live] = (await once(second, 'error')) as [Error & Record<string, unknown>];
    expect(live).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen', udsPath, port: 7 });
    expect(live.message).toMatch(/a server is listening on .*lst\.sock_7: not replacing a live socket/);
    const probe = net.createConnection(`${udsPath}_7`); // the first server still works
    await once(probe, 'connect');
    probe.destroy();
    await new Promise((resolve) => server.close(resolve));
    writeFileSync(`${udsPath}_8`, 'precious');
    const third = hvsock.createServer();
    third.listen({ udsPath, port: 8 });
    const [notSocket] = (await once(third, 'error')) as [Error];
    expect(notSocket).toMatchObject({ code: 'EADDRINUSE' });
    expect(readFileSync(`${udsPath}_8`, 'utf8')).toBe('precious');
    expect(() => server.listen({ udsPath, port: 9 }).listen({ udsPath, port: 9 })).toThrow(
      expect.objectContaining({ code: 'ERR_SERVER_ALREADY_LISTEN' }),
    );
    await once(server, 'listening');
    await new Promise((resolve) => server.close(resolve));
  });

  it('openvmm: a non-template service id is served on PATH_<GUID>', async () => {
    const vmm = await muxer('openvmm');
    const server = hvsock.createServer((socket) => socket.end('guid service'));
    server.listen({ udsPath: vmm.path, serviceId: GUID });
    await once(server, 'listening');
    expect(existsSync(`${vmm.path}_${GUID}`)).toBe(true);
    const [guestEnd, muxerEnd] = duplexPair();
    vmm.connectHost({ guid: GUID }, muxerEnd);
    expect((await readAll(guestEnd)).toString()).toBe('guid service');
    guestEnd.end();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('protocol helpers over hybrid endpoints', () => {
  it('http: listenOn() a hybrid endpoint, and createHttpAgent() through the VMM', async () => {
    const web = http.createServer((request, response) => response.end(`hello ${request.url} via ${request.socket.remoteFamily}`));
    // The guest's web server, reached through the muxer's guest bridge.
    const guestWeb = http.createServer((request, response) => response.end(`guest ${request.url}`));
    await new Promise<void>((resolve) => guestWeb.listen(path.join(tmp.dir, 'g-8080'), resolve));
    const vmm = await muxer('cloud-hypervisor');
    hvsock.listenOn(web, { udsPath: vmm.path, port: 8000 });
    await once(web, 'listening');
    expect(web.address()).toMatchObject({ family: 'hybrid-vsock', port: 8000 });
    // host → guest
    const agent = hvsock.createHttpAgent(`hvsock://${vmm.path}:8080`, { keepAlive: true });
    const get = (url: string) =>
      new Promise<string>((resolve, reject) =>
        http
          .get({ agent, host: 'guest', path: url }, async (response) => resolve((await readAll(response)).toString()))
          .on('error', reject),
      );
    expect(await get('/a')).toBe('guest /a');
    expect(await get('/b')).toBe('guest /b');
    agent.destroy();
    // guest → host: the "guest" speaks HTTP through the VMM into PATH_8000.
    const [guestEnd, muxerEnd] = duplexPair();
    vmm.connectHost({ port: 8000 }, muxerEnd);
    guestEnd.end('GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    expect((await readAll(guestEnd)).toString()).toMatch(/hello \/x via hybrid-vsock$/);
    await new Promise((resolve) => web.close(resolve));
    await new Promise((resolve) => guestWeb.close(resolve));
  });

  it('ws: a WebSocket to the guest through the VMM, and from the guest into a listenOn() server', async () => {
    const { WebSocket, WebSocketServer } = await import('ws');
    // The guest's WebSocket echo server.
    const guestWeb = http.createServer();
    const guestWss = new WebSocketServer({ server: guestWeb });
    guestWss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
    await new Promise<void>((resolve) => guestWeb.listen(path.join(tmp.dir, 'g-8081'), resolve));
    const vmm = await muxer('cloud-hypervisor');
    const client = new WebSocket('ws://guest/', { createConnection: () => hvsock.connect(`hvsock://${vmm.path}:8081`) });
    await once(client, 'open');
    client.send('over hybrid vsock');
    const [reply] = await once(client, 'message');
    expect(String(reply)).toBe('over hybrid vsock');
    const closed = once(client, 'close');
    client.close();
    await closed;
    // The host's WebSocket server on PATH_8082, reached the way the VMM reaches it
    // for a guest's connect (a plain Unix connect to PATH_8082).
    const hostWeb = http.createServer();
    const hostWss = new WebSocketServer({ server: hostWeb });
    hostWss.on('connection', (ws) => ws.send('hello guest'));
    hvsock.listenOn(hostWeb, `hvsock://${vmm.path}:8082`);
    await once(hostWeb, 'listening');
    const fromGuest = new WebSocket('ws://host/', { createConnection: () => net.createConnection(`${vmm.path}_8082`) });
    const [greeting] = await once(fromGuest, 'message');
    expect(String(greeting)).toBe('hello guest');
    const guestClosed = once(fromGuest, 'close');
    fromGuest.close();
    await guestClosed;
    guestWss.close();
    hostWss.close();
    await new Promise((resolve) => guestWeb.close(resolve));
    await new Promise((resolve) => hostWeb.close(resolve));
  });

  it('https agent and an undici connector through the VMM', async () => {
    const key = readFileSync(path.join(fixtures, 'tls-key.pem'));
    const cert = readFileSync(path.join(fixtures, 'tls-cert.pem'));
    const guestTls = https.createServer({ key, cert }, (request, response) => response.end(`tls ${request.url}`));
    await new Promise<void>((resolve) => guestTls.listen(path.join(tmp.dir, 'g-8443'), resolve));
    const vmm = await muxer('cloud-hypervisor');
    const agent = hvsock.createHttpsAgent({ udsPath: vmm.path, port: 8443 }, { ca: cert });
    const body = await new Promise<string>((resolve, reject) =>
      https
        .get({ agent, host: 'hvsock-test', path: '/s' }, async (response) => resolve((await readAll(response)).toString()))
        .on('error', reject),
    );
    expect(body).toBe('tls /s');
    agent.destroy();
    const undici = await import('undici');
    const dispatcher = new undici.Agent({ connect: hvsock.createUndiciConnector(`hvsock://${vmm.path}:8443`, { ca: cert }) as never });
    const response = await undici.request('https://hvsock-test/u', { dispatcher });
    expect(await response.body.text()).toBe('tls /u');
    await dispatcher.close();
    await new Promise((resolve) => guestTls.close(resolve));
  });
});

describe('examples/firecracker-host.js', () => {
  it('talks to a booting guest agent and serves a guest connection through a Firecracker-style muxer', async () => {
    const vmm = await muxer('firecracker');
    const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'examples', 'firecracker-host.js'), vmm.path, '3000']);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk));
    while (!/attempt 2: ECONNRESET/.test(out)) await once(child.stdout, 'data');
    // The agent is up: it answers each message and closes when the host does.
    await guests.serve(3000, (socket) => socket.on('data', () => socket.write('pong\n')).on('end', () => socket.end()));
    while (!/serving/.test(out)) await once(child.stdout, 'data');
    const [guestEnd, muxerEnd] = duplexPair();
    vmm.connectHost({ port: 3001 }, muxerEnd);
    expect((await readAll(guestEnd)).toString()).toBe('hello guest, from the host\n');
    guestEnd.end();
    const [code] = await once(child, 'close');
    expect(out).toMatch(/connected \(OK 10737418\d\d\) to guest port 3000/);
    expect(out).toContain('guest answered "pong\\n"');
    expect(code).toBe(0);
  });
});

describe('hybrid vsock needs no native addon', () => {
  it('connects, listens and echoes with the addon unloadable (as on a macOS host)', async () => {
    // HVSOCK_ADDON_PATH pointing nowhere makes any use of the addon throw.
    const script = `
      const net = require('node:net');
      const hvsock = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'index.js'))});
      const { createMuxer } = require(${JSON.stringify(path.join(__dirname, '..', 'fixtures', 'hybrid-muxer.js'))});
      const dir = ${JSON.stringify(tmp.dir)};
      (async () => {
        const guestEcho = net.createServer((s) => s.pipe(s)).listen(dir + '/g-noaddon');
        const vmm = await createMuxer({ path: dir + '/noaddon.sock', variant: 'firecracker',
          guest: { connect: () => net.createConnection(dir + '/g-noaddon') } });
        const socket = hvsock.connect('hvsock://' + dir + '/noaddon.sock:1');
        socket.write('no addon');
        const [data] = await require('node:events').once(socket, 'data');
        socket.destroy();
        const server = hvsock.createServer((s) => s.end('served'));
        server.listen({ udsPath: dir + '/noaddon.sock', port: 2 });
        await require('node:events').once(server, 'listening');
        const reply = await new Promise((resolve) => {
          const c = net.createConnection(dir + '/noaddon.sock_2');
          let text = '';
          c.on('data', (d) => (text += d)).on('end', () => { c.end(); resolve(text); });
        });
        let addon = 'loaded';
        try { hvsock.getLocalCid(); } catch (error) { addon = 'unloadable'; }
        process.stdout.write(String(data) + ' ' + reply + ' ' + addon);
        process.exit(0);
      })();`;
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, HVSOCK_ADDON_PATH: '/nonexistent/hvsock.node' } });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => out.push(chunk));
    const [code] = await once(child, 'close');
    expect(Buffer.concat(out).toString()).toBe('no addon served unloadable');
    expect(code).toBe(0);
  });
});

describe('CLI over hybrid endpoints (host side)', () => {
  function run(args: string[], input?: string | Buffer) {
    const child = spawn(process.execPath, [cli, ...args]);
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    if (input !== undefined) child.stdin.end(input);
    const done = new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) =>
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err })),
    );
    return { child, done, stderr: () => err };
  }
  const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

  it('connect pipes a checksummed 1 MiB through the VMM; ping; bench to a sink; a refused port exits 1 with the message', async () => {
    const vmm = await muxer('cloud-hypervisor');
    const payload = randomBytes(1024 * 1024);
    const connected = await run(['connect', `hvsock://${vmm.path}:52`], payload).done;
    expect(connected).toMatchObject({ code: 0, stderr: '' });
    expect(connected.stdout.length).toBe(payload.length);
    expect(sha(connected.stdout)).toBe(sha(payload));
    const ping = await run(['ping', `hvsock://${vmm.path}:52`, '--count', '20']).done;
    expect(ping.code).toBe(0);
    expect(ping.stdout.toString()).toMatch(new RegExp(`^ping hvsock://${vmm.path}:52: 20 × 64 bytes, round trip min`));
    await guests.serve(90, (socket) => {
      let received = 0;
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.on('end', () => socket.end(`${received}\n`));
    });
    const bench = await run(['bench', `hvsock://${vmm.path}:90`, '--bytes', '64M']).done;
    expect(bench.code).toBe(0);
    expect(bench.stdout.toString()).toMatch(new RegExp(`^bench hvsock://${vmm.path}:90: 67108864 bytes in [\\d.]+ s, [\\d.]+ MiB/s\\n$`));
    const refused = await run(['connect', `hvsock://${vmm.path}:91`], '').done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`hvsock: connect ECONNRESET hvsock://${vmm.path}:91 (no guest listener on port 91 (or the VMM refused))\n`);
  });

  it('listen and echo serve PATH_<port> for the guest', async () => {
    const vmm = await muxer('cloud-hypervisor');
    const echo = run(['echo', `hvsock://${vmm.path}:2000`]);
    while (!/echo listening on/.test(echo.stderr())) await once(echo.child.stderr, 'data');
    expect(echo.stderr()).toContain(`echo listening on hvsock://${vmm.path}:2000`);
    const [guestEnd, muxerEnd] = duplexPair();
    vmm.connectHost({ port: 2000 }, muxerEnd);
    guestEnd.end('echo me');
    expect((await readAll(guestEnd)).toString()).toBe('echo me');
    echo.child.kill('SIGTERM');
    expect((await echo.done).code).toBe(0);
    const listen = run(['listen', `hvsock://${vmm.path}:2001`], 'to the guest');
    while (!/listening on/.test(listen.stderr())) await once(listen.child.stderr, 'data');
    const [guest2, muxer2] = duplexPair();
    vmm.connectHost({ port: 2001 }, muxer2);
    guest2.end('from the guest');
    expect((await readAll(guest2)).toString()).toBe('to the guest');
    const listened = await listen.done;
    expect(listened).toMatchObject({ code: 0 });
    expect(listened.stdout.toString()).toBe('from the guest');
    expect(listened.stderr).toContain(`connection from a guest via hvsock://${vmm.path}:2001`);
  });
});

// Two connected in-memory Duplexes (stream.duplexPair is Node >= 22.6):
// the "guest" end the test drives, and the end the muxer bridges (a guest's
// accepted vsock connection, as the VMM holds it).
function duplexPair(): [Duplex, Duplex] {
  type Peered = Duplex & { peer?: Duplex };
  const make = (): Peered =>
    new Duplex({
      allowHalfOpen: true,
      read() {},
      write(chunk, _encoding, callback) {
        (this as Peered).peer?.push(chunk);
        callback();
      },
      final(callback) {
        (this as Peered).peer?.push(null);
        callback();
      },
      // Like vsock, which has no RST: a destroyed end looks like a clean EOF to its peer.
      destroy(error, callback) {
        const peer = (this as Peered).peer;
        if (peer && !peer.destroyed && !peer.readableEnded) peer.push(null);
        callback(error);
      },
    });
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

afterEach(() => {
  guests.silent.clear();
});

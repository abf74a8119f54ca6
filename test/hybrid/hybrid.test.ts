// Hybrid vsock through a VMM-side muxer that bridges to real AF_VSOCK, the
// way Firecracker / Cloud Hypervisor bridge their Unix socket to the guest:
// the "guest" servers are hvsock and socat listening on real vsock ports
// (CID 1 in the rig's guest), the host side is the hybrid client. Runs in
// the guest project; the handshake, fuzz and file cases that need no vsock
// are in hybrid.host.test.ts.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from '../helpers/guest';
import { hvsock } from '../helpers/hvsock';
import { muxerModule, tempDir, type GuestBridge, type Muxer, type Variant } from '../helpers/hybrid';
import { freshPort, listenOnFreshPort, readAll, sendPattern } from '../helpers/streams';

const SOCAT = '/usr/bin/socat';
const MiB = 1024 ** 2;
const GiB = 1024 * MiB;
// HVSOCK_HYBRID_BULK: bytes, or with an M/G suffix. npm test moves 64 MiB
// (TCG is slow: ~3-8 MiB/s through the in-guest bridge on a loaded 2-core
// machine); npm run test:hybrid-bulk (CI) moves 1 GiB.
function bulkSize(text = '64M'): number {
  const match = /^(\d+)([MG]?)$/i.exec(text);
  if (!match) throw new Error(`HVSOCK_HYBRID_BULK must be like 1G, 64M or 1048576, got ${text}`);
  return Number(match[1]) * ({ '': 1, m: MiB, g: GiB } as Record<string, number>)[match[2].toLowerCase()];
}
const BULK = bulkSize(process.env.HVSOCK_HYBRID_BULK);

// The VMM's side of the guest link: AF_VSOCK to CID 1 (the guest's own kernel here).
const vsockGuest: GuestBridge = {
  connect: ({ port }) => hvsock.connect({ cid: hvsock.Cid.LOCAL, port: port as number, allowHalfOpen: true }),
};

const tmp = tempDir();
const muxers: Muxer[] = [];
const servers: net.Server[] = [];
let count = 0;
async function muxer(variant: Variant): Promise<Muxer> {
  count += 1;
  const created = await muxerModule.createMuxer({ path: path.join(tmp.dir, `vm${count}.sock`), variant, guest: vsockGuest });
  muxers.push(created);
  return created;
}
async function guestServer(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = hvsock.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined); // Firecracker's variant closes both ways under it
    onConnection(socket as net.Socket);
  }) as unknown as net.Server;
  servers.push(server);
  return listenOnFreshPort(server as never);
}
/**
 * Writes `payload` at once (before OK: held until the handshake is done),
 * collects as many bytes back from an echo, then closes the socket.
 */
async function echoed(socket: net.Socket, payload: Buffer): Promise<Buffer> {
  socket.write(payload);
  const chunks: Buffer[] = [];
  let got = 0;
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    got += chunk.length;
    if (got >= payload.length) socket.destroy();
  });
  await once(socket, 'close');
  return Buffer.concat(chunks);
}
const log = (line: string): void => void process.stderr.write(`[hybrid] ${line}\n`);

let echoPort: number;
let sinkPort: number;
beforeAll(async () => {
  assertInTestGuest();
  echoPort = await guestServer((socket) => socket.pipe(socket));
  // Hashes what it gets; answers the digest once the host's stream ends.
  sinkPort = await guestServer((socket) => {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    socket.on('end', () => socket.end(`${bytes} ${hash.digest('hex')}\n`));
  });
});
afterAll(async () => {
  for (const created of muxers) await created.close();
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  tmp.remove();
});

describe('hybrid vsock bridged to real AF_VSOCK', () => {
  it(`moves ${BULK / MiB} MiB checksummed through the bridge (Cloud Hypervisor variant, half-close)`, async () => {
    const vmm = await muxer('cloud-hypervisor');
    const socket = hvsock.connect({ udsPath: vmm.path, port: sinkPort, allowHalfOpen: true });
    await once(socket, 'connect');
    const started = process.hrtime.bigint();
    const answer = readAll(socket);
    const sent = await sendPattern(socket, BULK, 256 * 1024);
    const [bytes, digest] = (await answer).toString().trim().split(' ');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    log(`bulk: ${BULK} bytes host → unix → muxer → vsock → guest in ${seconds.toFixed(2)} s, ${(BULK / MiB / seconds).toFixed(1)} MiB/s`);
    expect(Number(bytes)).toBe(sent.bytes);
    expect(digest).toBe(sent.sha256);
  }, 1_200_000);

  it('200 concurrent connections through one muxer (Firecracker variant), each echoed intact', async () => {
    const vmm = await muxer('firecracker');
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const payload = randomBytes(4096);
        const socket = hvsock.connect({ udsPath: vmm.path, port: echoPort, retry: { attempts: 30, minDelay: 50, maxDelay: 500 } });
        return (await echoed(socket, payload)).equals(payload);
      }),
    );
    log(`200 concurrent: ${Date.now() - started} ms, muxer answered ${vmm.stats.ok} OK, ${vmm.stats.refused} refused`);
    expect(results.every(Boolean)).toBe(true);
    expect(vmm.stats.earlyBytes).toBe(0);
  }, 300_000);

  it('a socat guest server (VSOCK-LISTEN, EXEC cat) through the Firecracker variant', async () => {
    if (!existsSync(SOCAT)) throw new Error(`${SOCAT} is missing: test/vm/setup.mjs installs it`);
    const port = freshPort();
    const socat = spawn(SOCAT, ['-d', '-d', `VSOCK-LISTEN:${port},fork`, 'EXEC:cat'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    socat.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    while (!/listening on/.test(stderr)) await once(socat.stderr, 'data');
    const vmm = await muxer('firecracker');
    const payload = randomBytes(MiB);
    const back = await echoed(hvsock.connect(`hvsock://${vmm.path}:${port}`), payload);
    socat.kill('SIGTERM');
    await once(socat, 'close');
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  }, 120_000);

  it('no guest listener: vsock resets the VMM, which closes without OK → ECONNRESET; retry waits for the agent', async () => {
    const vmm = await muxer('firecracker');
    const port = freshPort();
    const refused = hvsock.connect({ udsPath: vmm.path, port });
    const [error] = (await once(refused, 'error')) as [Error & { code: string }];
    expect(error).toMatchObject({ code: 'ECONNRESET', syscall: 'connect', port });
    expect(error.message).toContain(`no guest listener on port ${port} (or the VMM refused)`);
    // The guest agent comes up after two refusals.
    const socket = hvsock.connect({ udsPath: vmm.path, port, allowHalfOpen: true, retry: { minDelay: 50, maxDelay: 100, attempts: 50 } });
    let retries = 0;
    socket.on('retry', () => {
      retries += 1;
      if (retries === 2) {
        const agent = hvsock.createServer((s) => s.end('agent up'));
        servers.push(agent as unknown as net.Server);
        agent.listen({ port });
      }
    });
    expect((await readAll(socket)).toString()).toBe('agent up');
    expect(retries).toBeGreaterThanOrEqual(2);
    // allowHalfOpen: after the peer's end the socket stays open until we close it
    // (Firecracker already closed both directions: our writing side is dead anyway).
    socket.destroy();
  }, 120_000);

  it("Firecracker's no-half-close over real vsock: the host's end() loses the guest's answer; Cloud Hypervisor keeps it", async () => {
    const results: Record<string, string> = {};
    for (const variant of ['firecracker', 'cloud-hypervisor'] as const) {
      const vmm = await muxer(variant);
      const socket = hvsock.connect({ udsPath: vmm.path, port: sinkPort, allowHalfOpen: true });
      socket.end('abc');
      results[variant] = (await readAll(socket)).toString();
    }
    expect(results.firecracker).toBe('');
    expect(results['cloud-hypervisor']).toBe(`3 ${createHash('sha256').update('abc').digest('hex')}\n`);
  }, 120_000);

  it('guest → host: a vsock connection to the VMM goes to the host listening on PATH_<port> (hvsock and socat clients)', async () => {
    const vmm = await muxer('firecracker');
    const port = freshPort();
    // The VMM side: accept the guest's vsock connections on that port and bridge them to PATH_<port>.
    const vmmGuestSide = hvsock.createServer({ allowHalfOpen: true }, (socket) => vmm.connectHost({ port }, socket));
    servers.push(vmmGuestSide as unknown as net.Server);
    vmmGuestSide.listen({ port });
    await once(vmmGuestSide, 'listening');
    // Nothing on PATH_<port> yet: the guest's connection is dropped.
    const early = hvsock.connect({ cid: hvsock.Cid.LOCAL, port });
    early.on('error', () => undefined);
    early.resume();
    await once(early, 'close');
    const host = hvsock.createServer((socket) => socket.end(`hello ${socket.remoteFamily}`));
    servers.push(host as unknown as net.Server);
    host.listen(`hvsock://${vmm.path}:${port}`);
    await once(host, 'listening');
    const guest = hvsock.connect({ cid: hvsock.Cid.LOCAL, port });
    expect((await readAll(guest)).toString()).toBe('hello hybrid-vsock');
    const socat = spawn(SOCAT, ['-t', '30', 'STDIO', `VSOCK-CONNECT:1:${port}`], { stdio: ['pipe', 'pipe', 'ignore'] });
    const closed = once(socat, 'close');
    socat.stdin.end();
    expect((await readAll(socat.stdout)).toString()).toBe('hello hybrid-vsock');
    await closed;
  }, 120_000);
});

// Client sockets over real AF_VSOCK (CID 1, vsock_loopback) in the rig's guest.
import { once } from 'node:events';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { randomBytes, createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openFds as listFds } from './helpers/fds';
import { assertInTestGuest } from './helpers/guest';
import { hvsock } from './helpers/hvsock';
import { onPollPath } from './helpers/io-path';
import { connectLoopback, digestUntilEnd, freshPort, listenOnFreshPort, readAll, sendPattern } from './helpers/streams';

const { Cid, VmId, serviceIdFromPort } = hvsock;
// Open descriptors with what they point at, so a leak names itself.
const openFds = listFds;

let echo: ReturnType<typeof hvsock.createServer>;
let echoPort: number;
let fdsBefore: string[];

beforeAll(async () => {
  assertInTestGuest();
  fdsBefore = openFds();
  echo = hvsock.createServer((socket) => socket.pipe(socket));
  echoPort = await listenOnFreshPort(echo);
});

const connectionsOf = (server: ReturnType<typeof hvsock.createServer>): Promise<number> =>
  new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));

afterAll(async () => {
  // Every client above ended or was destroyed (also mid-connect, also by an
  // AbortSignal): the echo server must be left with no open connection.
  for (let waited = 0; waited < 5000 && (await connectionsOf(echo)) > 0; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(await connectionsOf(echo)).toBe(0);
  await new Promise((resolve) => echo.close(resolve));
  // Handles close asynchronously: let the loop run their close callbacks.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(openFds().filter((fd) => !fdsBefore.includes(fd))).toEqual([]);
});

describe('connect()', () => {
  it('returns a real net.Socket (a PollSocket Duplex on the poll path) that echoes, addressed by vmId + serviceId', async () => {
    const socket = hvsock.connect({ vmId: VmId.LOOPBACK, serviceId: serviceIdFromPort(echoPort) });
    // Path-aware: a real net.Socket on the handle path, a Duplex (not a
    // net.Socket) on the poll path (HVSOCK_IO=poll, test/helpers/io-path.ts).
    if (onPollPath) {
      expect(socket).toBeInstanceOf(hvsock.PollSocket);
      expect(socket).toBeInstanceOf(Duplex);
      expect(socket).not.toBeInstanceOf(net.Socket);
    } else {
      expect(socket).toBeInstanceOf(net.Socket);
      expect(socket).toBeInstanceOf(hvsock.VsockSocket);
    }
    expect(socket.connecting).toBe(true);
    const events: string[] = [];
    socket.on('connect', () => events.push('connect')).on('ready', () => events.push('ready'));
    socket.end('hello vsock'); // written before the connect completes: net buffers it
    expect((await readAll(socket)).toString()).toBe('hello vsock');
    expect(events).toEqual(['connect', 'ready']);
  });

  it('reports both ends on both sides', async () => {
    const server = hvsock.createServer();
    const port = await listenOnFreshPort(server);
    const [[accepted], client] = await Promise.all([
      once(server, 'connection') as Promise<[InstanceType<typeof hvsock.VsockSocket>]>,
      connectLoopback(port) as Promise<InstanceType<typeof hvsock.VsockSocket>>,
    ]);
    expect(client.remoteCid).toBe(Cid.LOCAL);
    expect(client.remotePort).toBe(port);
    expect(client.remoteVmId).toBe(VmId.LOOPBACK);
    expect(client.remoteServiceId).toBe(serviceIdFromPort(port));
    expect(client.remoteAddress).toBe('1');
    expect(client.remoteFamily).toBe('vsock');
    expect(accepted).toBeInstanceOf(onPollPath ? hvsock.PollSocket : hvsock.VsockSocket);
    expect(accepted.localPort).toBe(port);
    expect(accepted.localCid).toBe(Cid.LOCAL);
    expect(accepted.remoteCid).toBe(Cid.LOCAL);
    expect(accepted.remotePort).toBe(client.localPort);
    expect(accepted.remoteServiceId).toBe(serviceIdFromPort(client.localPort as number));
    // The kernel reports CID ANY for a client's own end (see README).
    expect([Cid.ANY, Cid.LOCAL]).toContain(client.localCid);
    expect(client.address()).toMatchObject({ family: 'vsock', port: client.localPort });
    client.destroy();
    accepted.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('moves 1 GiB client -> server intact, honouring backpressure', { timeout: 300_000 }, async () => {
    const server = hvsock.createServer({ bufferSize: 4 << 20 });
    const port = await listenOnFreshPort(server);
    const received = once(server, 'connection').then(([socket]) => digestUntilEnd(socket));
    const client = await connectLoopback(port, { bufferSize: 4 << 20 });
    const sent = await sendPattern(client, 1 << 30);
    const got = await received;
    expect(got).toEqual({ bytes: sent.bytes, sha256: sent.sha256 });
    expect(sent.maxQueued).toBeLessThanOrEqual(client.writableHighWaterMark + 64 * 1024);
    server.close();
  });

  it('moves 1 GiB server -> client intact, honouring backpressure', { timeout: 300_000 }, async () => {
    const server = hvsock.createServer({ bufferSize: 4 << 20 });
    const port = await listenOnFreshPort(server);
    const sent = once(server, 'connection').then(([socket]) => sendPattern(socket, 1 << 30));
    const client = await connectLoopback(port, { bufferSize: 4 << 20 });
    const got = await digestUntilEnd(client);
    const result = await sent;
    expect(got).toEqual({ bytes: result.bytes, sha256: result.sha256 });
    expect(result.maxQueued).toBeLessThanOrEqual(16 * 1024 + 64 * 1024);
    server.close();
  });

  it('half-closes: the client ends first and still reads the reply', async () => {
    const server = hvsock.createServer({ allowHalfOpen: true }, async (socket) => {
      const request = await readAll(socket); // until the client's end()
      socket.end(`reply:${request}`);
    });
    const port = await listenOnFreshPort(server);
    const client = await connectLoopback(port);
    client.end('ping');
    expect((await readAll(client)).toString()).toBe('reply:ping');
    server.close();
  });

  it('half-closes: the server ends first and still reads what the client sends after', async () => {
    const afterEnd = new Promise<string>((resolve) => {
      const server = hvsock.createServer((socket) => {
        socket.end('banner');
        readAll(socket).then((data) => {
          resolve(data.toString());
          server.close();
        });
      });
      listenOnFreshPort(server).then(async (port) => {
        const client = await connectLoopback(port, { allowHalfOpen: true });
        expect((await readAll(client)).toString()).toBe('banner'); // 'end' seen, still writable
        expect(client.writable).toBe(true);
        client.end('after-end');
      });
    });
    expect(await afterEnd).toBe('after-end');
  });

  it('runs 200 concurrent connections, each checksummed', { timeout: 120_000 }, async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const payload = randomBytes(64 * 1024);
        const client = hvsock.connect({ cid: Cid.LOCAL, port: echoPort });
        client.end(payload);
        const back = await readAll(client);
        return createHash('sha256').update(back).digest('hex') === createHash('sha256').update(payload).digest('hex');
      }),
    );
    expect(results.filter(Boolean)).toHaveLength(200);
  });
});

describe('connect() failures', () => {
  it('reports a port with no listener as the kernel does: ECONNRESET', async () => {
    const port = freshPort();
    const socket = hvsock.connect({ cid: Cid.LOCAL, port });
    const closes: boolean[] = [];
    socket.on('close', (hadError: boolean) => closes.push(hadError));
    const [error] = await once(socket, 'error');
    expect(error).toMatchObject({
      code: 'ECONNRESET',
      errno: -104,
      syscall: 'connect',
      cid: 1,
      port,
      address: `vsock://1:${port}`,
      serviceId: serviceIdFromPort(port),
    });
    expect(error.message).toMatch(new RegExp(`^connect ECONNRESET vsock://1:${port}`));
    await once(socket, 'close');
    expect(closes).toEqual([true]);
  });

  it('reports a CID no transport reaches as ENODEV, asynchronously', async () => {
    const socket = hvsock.connect({ cid: 4242, port: 5 });
    let sync = true;
    const errored = once(socket, 'error');
    sync = false;
    const [error] = await errored;
    expect(sync).toBe(false);
    expect(error).toMatchObject({ code: 'ENODEV', syscall: 'connect', cid: 4242 });
  });

  it('applies connectTimeout in the kernel (SO_VM_SOCKETS_CONNECT_TIMEOUT)', async () => {
    // vsock_loopback answers every connect inside the kernel at once, so no
    // peer here can leave one unanswered long enough to see ETIMEDOUT; what
    // is checkable is that the kernel holds the timeout we asked for.
    const socket = hvsock.connect({ cid: Cid.LOCAL, port: echoPort, connectTimeout: 1234 });
    await once(socket, 'connect');
    const held = socket.connectTimeout as number;
    expect(held).toBeGreaterThanOrEqual(1234); // rounded up to the kernel tick
    expect(held).toBeLessThan(1234 + 20);
    const plain = await connectLoopback(echoPort);
    expect(plain.connectTimeout).toBe(2000); // the kernel's default
    socket.destroy();
    plain.destroy();
  });

  it('aborts through an AbortSignal while connecting', async () => {
    const controller = new AbortController();
    const socket = hvsock.connect({ cid: Cid.LOCAL, port: echoPort, signal: controller.signal });
    let connected = false;
    socket.on('connect', () => (connected = true));
    controller.abort();
    const [error] = await once(socket, 'error');
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await once(socket, 'close');
    expect(connected).toBe(false);
  });

  it('honours an already-aborted signal without ever connecting', async () => {
    const accepted = vi.fn();
    const server = hvsock.createServer(accepted); // its own: late accepts of earlier tests can't land here
    const port = await listenOnFreshPort(server);
    const socket = hvsock.connect({ cid: Cid.LOCAL, port, signal: AbortSignal.abort() });
    const errors: Error[] = [];
    socket.on('error', (error) => errors.push(error));
    await new Promise((resolve) => socket.on('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.close();
    expect(errors.map((e) => e.name)).toEqual(['AbortError']);
    expect(socket.connecting).toBe(false);
    expect(accepted).not.toHaveBeenCalled();
  });

  it('survives destroy() while connecting, and twice', async () => {
    const socket = hvsock.connect({ cid: Cid.LOCAL, port: echoPort });
    let closes = 0;
    socket.on('close', () => closes++);
    socket.on('error', () => expect.unreachable('no error after destroy()'));
    socket.destroy();
    socket.destroy();
    await once(socket, 'close');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closes).toBe(1);
  });

  it('refuses to connect a socket twice', async () => {
    const socket = await connectLoopback(echoPort);
    expect(() => socket.connect({ port: 1 })).toThrow(expect.objectContaining({ code: 'ERR_HVSOCK_SOCKET_NOT_REUSABLE' }));
    socket.destroy();
    expect(() => socket.connect({ port: 1 })).toThrow(expect.objectContaining({ code: 'ERR_HVSOCK_SOCKET_NOT_REUSABLE' }));
  });

  it('ignores TCP-only tuning that http applies', async () => {
    const socket = await connectLoopback(echoPort);
    expect(() => socket.setNoDelay(true).setKeepAlive(true, 1000)).not.toThrow();
    socket.end('still fine');
    expect((await readAll(socket)).toString()).toBe('still fine');
  });

  it("sets the receive buffer size, and accepted sockets inherit the listener's", async () => {
    const server = hvsock.createServer({ bufferSize: 1 << 20 });
    const port = await listenOnFreshPort(server);
    const [[accepted], client] = await Promise.all([
      once(server, 'connection') as Promise<[InstanceType<typeof hvsock.VsockSocket>]>,
      connectLoopback(port, { bufferSize: 2 << 20 }) as Promise<InstanceType<typeof hvsock.VsockSocket>>,
    ]);
    expect(client.vsockBufferSize).toBe(2 << 20);
    expect(accepted.vsockBufferSize).toBe(1 << 20);
    client.destroy();
    accepted.destroy();
    server.close();
  });
});

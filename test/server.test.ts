// Servers over real AF_VSOCK in the rig's guest.
import { once } from 'node:events';
import * as net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from './helpers/guest';
import { hvsock } from './helpers/hvsock';
import { onPollPath } from './helpers/io-path';
import { connectLoopback, freshPort, listenOnFreshPort, readAll } from './helpers/streams';

const { Cid, VmId, serviceIdFromPort } = hvsock;

beforeAll(() => assertInTestGuest());

describe('createServer() / listen()', () => {
  it('is a net.Server (a PollServer on the poll path) and reports its vsock address', async () => {
    const server = hvsock.createServer();
    // Path-aware: net.Server on the handle path; the poll path's PollServer
    // is an EventEmitter with net.Server's surface (HVSOCK_IO=poll).
    expect(server).toBeInstanceOf(onPollPath ? hvsock.PollServer : net.Server);
    const port = freshPort();
    const listening = once(server, 'listening');
    expect(server.listen({ serviceId: serviceIdFromPort(port), vmId: VmId.WILDCARD })).toBe(server);
    await listening;
    expect(server.address()).toEqual({
      address: String(Cid.ANY),
      family: 'vsock',
      cid: Cid.ANY,
      port,
      vmId: VmId.WILDCARD,
      serviceId: serviceIdFromPort(port),
    });
    await new Promise((resolve) => server.close(resolve));
    expect(server.address()).toBeNull();
  });

  it('binds the loopback CID by VM id and picks an ephemeral port when none is given', async () => {
    const server = hvsock.createServer();
    server.listen({ vmId: VmId.LOOPBACK }, () => undefined);
    await once(server, 'listening');
    const address = server.address();
    expect(address).toMatchObject({ cid: Cid.LOCAL, vmId: VmId.LOOPBACK });
    expect(address?.port).not.toBe(hvsock.PORT_ANY);
    const client = await connectLoopback(address!.port);
    client.destroy();
    server.close();
  });

  it('takes a bare port number, like net', async () => {
    const port = freshPort();
    const server = hvsock.createServer().listen(port);
    await once(server, 'listening');
    expect(server.address()?.port).toBe(port);
    server.close();
  });

  it('emits EADDRINUSE for a busy port', async () => {
    const first = hvsock.createServer();
    const port = await listenOnFreshPort(first);
    const second = hvsock.createServer();
    second.listen({ port });
    const [error] = await once(second, 'error');
    expect(error).toMatchObject({ code: 'EADDRINUSE', errno: -98, syscall: 'listen', port, cid: Cid.ANY });
    expect(error.message).toMatch(/^listen EADDRINUSE vsock:\/\/4294967295:/);
    expect(second.listening).toBe(false);
    first.close();
  });

  it('throws ERR_SERVER_ALREADY_LISTEN on a second listen()', async () => {
    const server = hvsock.createServer();
    await listenOnFreshPort(server);
    expect(() => server.listen({ port: freshPort() })).toThrow(expect.objectContaining({ code: 'ERR_SERVER_ALREADY_LISTEN' }));
    server.close();
  });

  it('close() stops accepting at once and emits close after connections end', async () => {
    const server = hvsock.createServer((socket) => socket.on('data', () => undefined));
    const port = await listenOnFreshPort(server);
    const client = await connectLoopback(port);
    await new Promise((resolve) => setImmediate(resolve));
    let closed = false;
    server.close(() => (closed = true));
    const late = hvsock.connect({ cid: Cid.LOCAL, port });
    const [error] = await once(late, 'error');
    expect(error.code).toBe('ECONNRESET');
    expect(closed).toBe(false);
    client.end();
    await once(server, 'close');
    expect(closed).toBe(true);
  });

  it('counts connections and honours maxConnections', async () => {
    const server = hvsock.createServer((socket) => socket.resume());
    server.maxConnections = 1;
    const port = await listenOnFreshPort(server);
    const accepted = once(server, 'connection');
    const first = await connectLoopback(port);
    await accepted;
    const count = await new Promise<number>((resolve, reject) => server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    expect(count).toBe(1);
    const second = await connectLoopback(port);
    expect(await readAll(second)).toHaveLength(0); // dropped by net
    first.destroy();
    server.close();
  });

  it('getLocalCid() answers from /dev/vsock', () => {
    const cid = hvsock.getLocalCid();
    expect(Number.isInteger(cid)).toBe(true);
    expect(cid).toBeGreaterThanOrEqual(0);
  });
});

// Servers over real AF_VSOCK in the rig's guest.
import * as diagnostics from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createRequire } from 'node:module';
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

  // The handle path's accept makes VsockSockets itself (lib/handle/socket.ts
  // acceptVsockSockets): re-prototyping net's socket and reading both names
  // at once cost ~110 µs of a ~480 µs connection in the guest. What net's
  // accept does besides (the diagnostics channel, connection counting) stays.
  it('accepts into VsockSockets without re-prototyping them, reads addresses only when asked, publishes net.server.socket', async () => {
    const bindingModule: typeof import('../lib/binding') = createRequire(__filename)('../dist/binding.js');
    const real = bindingModule.binding();
    let nameReads = 0;
    bindingModule.replaceBindingForTesting({
      ...real,
      getpeername: (fd, out) => (nameReads++, real.getpeername(fd, out)),
      getsockname: (fd, out) => (nameReads++, real.getsockname(fd, out)),
    });
    const setPrototypeOf = Object.setPrototypeOf;
    let reprototyped = 0;
    Object.setPrototypeOf = (object: object, prototype: object | null) => {
      if (prototype === hvsock.VsockSocket.prototype) reprototyped++;
      return setPrototypeOf(object, prototype);
    };
    const published: unknown[] = [];
    const onPublish = (message: unknown): number => published.push((message as { socket: unknown }).socket);
    diagnostics.subscribe('net.server.socket', onPublish);
    try {
      const server = hvsock.createServer();
      const port = await listenOnFreshPort(server);
      nameReads = 0;
      const accepted = once(server, 'connection');
      const client = await connectLoopback(port);
      const [socket] = (await accepted) as [InstanceType<typeof hvsock.VsockSocket>];
      const before = { nameReads, reprototyped, published: published.length };
      expect(socket.remoteCid).toBe(Cid.LOCAL);
      expect(socket.remoteAddress).toBe(String(Cid.LOCAL));
      expect(socket.address()).toMatchObject({ cid: Cid.LOCAL, port });
      const peerPort = socket.remotePort;
      const serverSideReads = nameReads;
      expect(peerPort).toBe(client.localPort);
      if (onPollPath) {
        expect(socket).toBeInstanceOf(hvsock.PollSocket);
      } else {
        expect(socket).toBeInstanceOf(hvsock.VsockSocket);
        expect(before).toEqual({ nameReads: 0, reprototyped: 0, published: 1 });
        expect(published[0]).toBe(socket);
        expect(serverSideReads).toBe(2); // each name once, then kept
      }
      client.destroy();
      await once(socket, 'close');
      expect(socket.remotePort).toBe(peerPort); // kept after close
      await new Promise((resolve) => server.close(resolve));
    } finally {
      diagnostics.unsubscribe('net.server.socket', onPublish);
      Object.setPrototypeOf = setPrototypeOf;
      bindingModule.replaceBindingForTesting();
    }
  });

  // native/addon_custody.h: fds from socket() and accept() are held until an
  // owner takes them, and closed at teardown. An fd left held after its owner
  // took it would be closed twice at a Worker's teardown; this pins that every
  // path (listen, connect, accept; handle or poll) hands its fds over.
  it('leaves no descriptor awaiting an owner once listening, connected, accepted and closed', async () => {
    const held = (): number => createRequire(__filename)('../dist/binding.js').binding().heldDescriptors();
    const server = hvsock.createServer();
    const port = await listenOnFreshPort(server);
    expect(held()).toBe(0);
    const accepted: net.Socket[] = [];
    server.on('connection', (socket: net.Socket) => accepted.push(socket));
    const clients = await Promise.all(Array.from({ length: 8 }, () => connectLoopback(port)));
    while (accepted.length < clients.length) await once(server, 'connection');
    expect(held()).toBe(0);
    for (const client of clients) client.destroy();
    await Promise.all(accepted.map((socket) => (socket.closed ? undefined : once(socket, 'close'))));
    await new Promise((resolve) => server.close(resolve));
    expect(held()).toBe(0);
  });

  it('getLocalCid() answers from /dev/vsock', () => {
    const cid = hvsock.getLocalCid();
    expect(Number.isInteger(cid)).toBe(true);
    expect(cid).toBeGreaterThanOrEqual(0);
  });
});

// Adopting vsock descriptors over real AF_VSOCK in the rig's guest:
// VsockSocket.fromFd / listen({ fd }) in-process, a parent passing a bound
// listener or a connected socket to a child (stdio inheritance), and a
// systemd-style launch (LISTEN_PID / LISTEN_FDS through sh -c ... exec).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from '../helpers/guest';
import { hvsock } from '../helpers/hvsock';
import { freshPort, readAll } from '../helpers/streams';

const load = createRequire(__filename);
const native: import('../../lib/binding').NativeBinding = load('../../dist/binding.js').binding();
const { encodeEndpoint, addressBuffer }: typeof import('../../lib/address/index') = load('../../dist/address/index.js');
const FIXTURE = path.join(__dirname, '..', 'fixtures', 'fd-child.js');
const { Cid } = hvsock;

beforeAll(() => assertInTestGuest());

const opened: number[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
  for (const fd of opened.splice(0)) native.close(fd); // EBADF for those the library took: harmless
});

function isOpen(fd: number): boolean {
  return native.describe(fd) !== -9;
}

/** A raw vsock stream descriptor made by "other code" (the addon, not the library's API). */
function rawSocket(): number {
  const fd = native.socket(1);
  expect(fd).toBeGreaterThanOrEqual(0);
  opened.push(fd);
  return fd;
}

function rawBound(port: number, listen: boolean): number {
  const fd = rawSocket();
  expect(native.bind(fd, encodeEndpoint({ cid: Cid.ANY, port }))).toBe(0);
  if (listen) expect(native.listen(fd, 16)).toBe(0);
  return fd;
}

async function until<T>(attempt: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = attempt();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Accepts one pending connection on a raw listener: the accepted fd. */
function rawAccept(listener: number): Promise<number> {
  return until(() => {
    const fd = native.accept(listener, addressBuffer());
    if (fd === -11) return undefined; // EAGAIN: not there yet
    expect(fd).toBeGreaterThanOrEqual(0);
    opened.push(fd);
    return fd;
  }, 'a connection to accept');
}

/** A raw client descriptor connected to CID 1 `port`. */
async function rawConnected(port: number): Promise<number> {
  const fd = rawSocket();
  const status = native.connect(fd, encodeEndpoint({ cid: Cid.LOCAL, port }));
  expect([0, -115]).toContain(status);
  await until(() => (native.getpeername(fd, addressBuffer()) === 0 ? true : undefined), 'the raw connect');
  return fd;
}

/** A TCP listener on 127.0.0.1 and its descriptor (a socket of another family). */
async function tcpListener(): Promise<{ tcp: net.Server; tcpFd: number }> {
  const tcp = net.createServer().listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  return { tcp, tcpFd: (tcp as unknown as { _handle: { fd: number } })._handle.fd };
}

/** A library client connected to a raw listener on a fresh port, and the raw accepted fd. */
async function acceptedPair(): Promise<{ port: number; client: ReturnType<typeof hvsock.connect>; accepted: number }> {
  const port = freshPort();
  const listener = rawBound(port, true);
  const client = hvsock.connect({ cid: Cid.LOCAL, port });
  await once(client, 'connect');
  return { port, client, accepted: await rawAccept(listener) };
}

async function echoOnce(socket: net.Socket, text: string): Promise<string> {
  socket.write(text);
  const [data] = await once(socket, 'data');
  return String(data);
}

describe('VsockSocket.fromFd()', () => {
  it('adopts an accepted descriptor: addresses from the kernel, data both ways, fd closed with the socket', async () => {
    const { port, client, accepted: fd } = await acceptedPair();
    const adopted = hvsock.VsockSocket.fromFd(fd);
    expect(adopted).toBeInstanceOf(net.Socket);
    expect(adopted).toBeInstanceOf(hvsock.VsockSocket);
    expect({ cid: adopted.remoteCid, port: adopted.remotePort, family: adopted.remoteFamily }).toEqual({
      cid: Cid.LOCAL,
      port: client.localPort,
      family: 'vsock',
    });
    expect({ cid: adopted.localCid, port: adopted.localPort }).toEqual({ cid: Cid.LOCAL, port });
    adopted.on('data', (data) => adopted.end(`adopted:${data}`));
    client.end('hi');
    expect(String(await readAll(client))).toBe('adopted:hi');
    await once(adopted, 'close');
    expect(isOpen(fd)).toBe(false);
  });

  it('adopts a connected client descriptor made elsewhere', async () => {
    const server = hvsock.createServer((socket) => socket.on('data', (d) => socket.write(`server:${d}`)));
    server.listen({ port: freshPort() });
    await once(server, 'listening');
    const { port } = server.address()!;
    const fd = await rawConnected(port);
    const adopted = hvsock.VsockSocket.fromFd(fd, { allowHalfOpen: false });
    expect(adopted.remoteCid).toBe(Cid.LOCAL);
    expect(adopted.remotePort).toBe(port);
    expect(await echoOnce(adopted, 'ping')).toBe('server:ping');
    adopted.destroy();
    server.close();
  });

  it('rejects what is not a connected vsock stream, with what it found, and leaves the fd alone', () => {
    const listener = rawBound(freshPort(), true);
    const unconnected = rawSocket();
    const seqpacket = native.socket(2);
    if (seqpacket >= 0) opened.push(seqpacket);
    const pair = native.standInPair!() as [number, number];
    opened.push(...pair);
    const cases: [number, string][] = [
      [listener, `fd ${listener} is a listening socket: use server.listen({ fd })`],
      [unconnected, `fd ${unconnected} is not connected`],
      [pair[0], `fd ${pair[0]} is AF_UNIX, not AF_VSOCK`],
    ];
    if (seqpacket >= 0) cases.push([seqpacket, `fd ${seqpacket} is SOCK_SEQPACKET, not SOCK_STREAM`]);
    else console.log(`SOCK_SEQPACKET case skipped: socket() gave ${seqpacket} on this kernel`);
    for (const [fd, message] of cases) {
      expect(() => hvsock.VsockSocket.fromFd(fd)).toThrow(expect.objectContaining({ code: 'ERR_HVSOCK_BAD_FD' }));
      expect(() => hvsock.socketFromFd(fd)).toThrow(message);
      expect(isOpen(fd)).toBe(true); // the caller still owns it
    }
  });

  it('a descriptor that is not open: EBADF in Node shape; bad arguments: typed errors', () => {
    expect(() => hvsock.VsockSocket.fromFd(987654)).toThrow(
      expect.objectContaining({ code: 'EBADF', errno: -9, syscall: 'getsockname', fd: 987654, message: 'getsockname EBADF fd 987654' }),
    );
    expect(() => hvsock.VsockSocket.fromFd('3' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => hvsock.VsockSocket.fromFd(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => hvsock.VsockSocket.fromFd(1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe('server.listen({ fd })', () => {
  it.each([
    ['bound, not yet listening', false],
    ['already listening', true],
  ])('serves on a %s descriptor and reports its address; close() closes the fd', async (_, listening) => {
    const port = freshPort();
    const fd = rawBound(port, listening);
    const server = hvsock.createServer((socket) => socket.end(`port ${(socket as net.Socket).localPort}`));
    const onListening = once(server, 'listening');
    expect(server.listen({ fd })).toBe(server);
    await onListening;
    expect(server.address()).toMatchObject({ cid: Cid.ANY, port, family: 'vsock' });
    const client = hvsock.connect({ cid: Cid.LOCAL, port });
    expect(String(await readAll(client))).toBe(`port ${port}`);
    await new Promise((resolve) => server.close(resolve));
    expect(isOpen(fd)).toBe(false);
  });

  it('rejects unbound and connected vsock descriptors and other families synchronously', async () => {
    const unbound = rawSocket();
    const { tcp, tcpFd } = await tcpListener();
    const server = hvsock.createServer();
    expect(() => server.listen({ fd: unbound })).toThrow(`fd ${unbound} is not bound`);
    expect(() => server.listen({ fd: tcpFd })).toThrow(`fd ${tcpFd} is AF_INET, not AF_VSOCK`);
    expect(() => server.listen({ fd: 987654 })).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const { client, accepted } = await acceptedPair();
    expect(() => server.listen({ fd: accepted })).toThrow(`fd ${accepted} is a connected socket: use VsockSocket.fromFd()`);
    expect(server.listening).toBe(false);
    client.destroy();
    tcp.close();
  });
});

/** Spawns the fixture with `fds` as its fds 3, 4, ...; resolves its JSON report line. */
async function startChild(command: string, args: string[], fds: number[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit', ...fds], env });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(([code]) => [`{"exit":${code}}`])])) as [string];
  return { child, report: JSON.parse(line) };
}

describe('descriptors passed to a child process', () => {
  it('the child serves on a listener the parent bound (listen({ fd: 3 })), after the parent closed its copy', async () => {
    const port = freshPort();
    const fd = rawBound(port, true);
    const { child, report } = await startChild(process.execPath, [FIXTURE, 'listen-fd'], [fd]);
    native.close(fd); // the parent's copy: the child's keeps the socket alive
    opened.splice(opened.indexOf(fd), 1);
    expect(report.servers).toEqual([{ fd: 3, name: 'listen-fd', port, cid: Cid.ANY }]);
    const client = hvsock.connect({ cid: Cid.LOCAL, port });
    expect(await echoOnce(client, 'hello')).toBe(`${child.pid}:hello`);
    client.destroy();
  });

  it('the child adopts a connected socket (VsockSocket.fromFd(3)) the parent accepted', async () => {
    const { port, client, accepted } = await acceptedPair();
    const { child, report } = await startChild(process.execPath, [FIXTURE, 'socket-fd'], [accepted]);
    native.close(accepted);
    opened.splice(opened.indexOf(accepted), 1);
    expect(report.remote).toEqual({ cid: Cid.LOCAL, port: client.localPort });
    expect(report.local).toEqual({ cid: Cid.LOCAL, port });
    expect(await echoOnce(client, 'over')).toBe(`${child.pid}:over`);
    client.destroy();
  });

  it('systemd-style launch: LISTEN_PID=$$ LISTEN_FDS=2 exec node; vsock fd served, TCP fd left open, env unset', async () => {
    const port = freshPort();
    const fd = rawBound(port, true);
    const { tcp, tcpFd } = await tcpListener();
    const script = 'LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=control:web exec "$0" "$@"';
    const { child, report } = await startChild('/bin/sh', ['-c', script, process.execPath, FIXTURE, 'systemd'], [fd, tcpFd]);
    tcp.close();
    expect(report.servers).toEqual([{ fd: 3, name: 'control', port, cid: Cid.ANY }]);
    expect(report.env).toEqual({}); // LISTEN_* removed, as sd_listen_fds(1) does
    expect(report.fd4Open).toBe(true); // not vsock: untouched
    const client = hvsock.connect({ cid: Cid.LOCAL, port });
    expect(await echoOnce(client, 'activated')).toBe(`${child.pid}:activated`);
    client.destroy();
  });

  it('LISTEN_PID of another process: not for us, nothing adopted', async () => {
    const fd = rawBound(freshPort(), true);
    const env = { ...process.env, LISTEN_PID: String(process.pid), LISTEN_FDS: '1' };
    const { report } = await startChild(process.execPath, [FIXTURE, 'systemd'], [fd], env);
    expect(report.servers).toEqual([]);
    expect(report.env).toEqual({}); // still unset, as systemd does
  });
});

// The kernel's failure answers, scripted (see helpers/fake-binding.ts): each
// must surface as a typed error in Node's shape, asynchronously, exactly once,
// with the descriptor closed. Also answers vsock_loopback never gives, such
// as ETIMEDOUT.
import { once } from 'node:events';
import * as net from 'node:net';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { installFakeBinding } from './helpers/fake-binding';
import { hvsock } from './helpers/hvsock';
import { readAll } from './helpers/streams';

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

function script(...args: Parameters<typeof installFakeBinding>) {
  const installed = installFakeBinding(...args);
  restore = installed.restore;
  return installed.kernel;
}

async function failureOf(socket: net.Socket): Promise<{ error: NodeJS.ErrnoException & Record<string, unknown>; closes: number }> {
  let closes = 0;
  socket.on('close', () => closes++);
  const [error] = await once(socket, 'error');
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { error, closes };
}

describe('connect() with scripted kernel answers', () => {
  it.each([
    [-110, 'ETIMEDOUT', undefined],
    [-111, 'ECONNREFUSED', 'nothing is listening'],
    [-104, 'ECONNRESET', 'nothing is listening'],
    [-113, 'EHOSTUNREACH', undefined],
    [-19, 'ENODEV', 'no vsock transport'],
  ])('SO_ERROR %d after the watcher fires -> %s', async (status, code, hint) => {
    const kernel = script({ soError: status });
    const socket = hvsock.connect({ cid: 3, port: 5000 });
    socket.write('queued before connect'); // must not turn into ERR_SOCKET_CLOSED
    const { error, closes } = await failureOf(socket);
    expect(error).toMatchObject({ code, errno: status, syscall: 'connect', cid: 3, port: 5000, address: 'vsock://3:5000' });
    expect(error.message.startsWith(`connect ${code} vsock://3:5000`)).toBe(true);
    if (hint) expect(String(error.hint)).toContain(hint);
    else expect(error.hint).toBeUndefined();
    expect(closes).toBe(1);
    expect(await kernel.allClosed()).toBe(true);
    expect(kernel.calls.filter((c) => c.startsWith('takeError'))).toHaveLength(1);
  });

  it('a synchronous connect failure is still reported asynchronously', async () => {
    script({ connect: -19 });
    const socket = hvsock.connect({ cid: 3, port: 5000 });
    let reported = false;
    socket.on('error', () => (reported = true));
    expect(reported).toBe(false);
    const { error } = await failureOf(socket);
    expect(error).toMatchObject({ code: 'ENODEV', syscall: 'connect' });
  });

  it('socket() failing (no AF_VSOCK) gives EAFNOSUPPORT with a hint, not ERR_SOCKET_CLOSED', async () => {
    script({ socket: -97 });
    const socket = hvsock.connect({ cid: 3, port: 5000 });
    socket.write('early');
    const { error, closes } = await failureOf(socket);
    expect(error).toMatchObject({ code: 'EAFNOSUPPORT', errno: -97, syscall: 'socket' });
    expect(String(error.hint)).toContain('no vsock support');
    expect(closes).toBe(1);
  });

  it('a rejected socket option fails the connect with syscall setsockopt and closes the fd', async () => {
    const kernel = script({ setOption: -22 });
    const socket = hvsock.connect({ cid: 3, port: 5000, bufferSize: 1 << 20 });
    const { error } = await failureOf(socket);
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'setsockopt' });
    expect(kernel.calls.some((c) => c.startsWith('connect'))).toBe(false);
    expect(await kernel.allClosed()).toBe(true);
  });

  it('widens the buffer bounds before setting the size', () => {
    const kernel = script({});
    const socket = hvsock.connect({ cid: 3, port: 5000, bufferSize: 8 << 20 });
    socket.destroy();
    // max (256 KiB by default) is raised first, else the kernel would clamp the size
    expect(kernel.calls.filter((c) => c.startsWith('setOption'))).toEqual([`setOption(2, ${8 << 20})`, `setOption(0, ${8 << 20})`]);
  });

  it('a completed connect becomes a working stream (socketpair stand-in)', async () => {
    const kernel = script({ connect: 0 });
    const socket = hvsock.connect({ cid: 3, port: 5000 });
    let connected = false;
    socket.on('connect', () => (connected = true));
    expect(connected).toBe(false); // never synchronously
    await once(socket, 'connect');
    const peer = new net.Socket({ fd: kernel.peerFd(), readable: true, writable: true });
    peer.end('from the peer');
    socket.end('from us');
    const [ours, theirs] = await Promise.all([readAll(socket), readAll(peer)]);
    expect(ours.toString()).toBe('from the peer');
    expect(theirs.toString()).toBe('from us');
  });
});

describe('listen() with scripted kernel answers', () => {
  it.each([
    [-98, 'EADDRINUSE'],
    [-13, 'EACCES'],
    [-99, 'EADDRNOTAVAIL'],
  ])('bind %d -> %s as an error event, fd closed, not listening', async (status, code) => {
    const kernel = script({ bind: status });
    const server = hvsock.createServer();
    server.listen({ port: 5000 });
    const [error] = await once(server, 'error');
    expect(error).toMatchObject({ code, errno: status, syscall: 'listen', port: 5000, cid: hvsock.Cid.ANY });
    expect(server.listening).toBe(false);
    expect(await kernel.allClosed()).toBe(true);
  });
});

it('leaves no descriptor open after a failed connect', async () => {
  const before = readdirSync('/proc/self/fd').length;
  script({ soError: -110 });
  await failureOf(hvsock.connect({ cid: 3, port: 1 }));
  restore?.();
  restore = undefined;
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(readdirSync('/proc/self/fd').length).toBe(before);
});

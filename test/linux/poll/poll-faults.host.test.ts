// The poll path (io: 'poll') against scripted kernel answers on the host: a
// socketpair stands in for the vsock connection (helpers/fake-binding.ts)
// and the data calls are wrapped to answer EAGAIN storms, short writes,
// truncated messages and EOF mid-transfer. Nothing here touches AF_VSOCK.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { installFakeBinding, type Script } from '../../helpers/fake-binding';
import { hvsock } from '../../helpers/hvsock';
import { digestUntilEnd, readAll, sendPattern } from '../../helpers/streams';

const EAGAIN = -11;
const bindingModule: typeof import('../../../lib/binding') = createRequire(__filename)('../../../dist/binding.js');
const hvsockBinding = () => bindingModule.binding();

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

function script(io: Script['io']) {
  const installed = installFakeBinding({ io });
  restore = installed.restore;
  return installed.kernel;
}

// A deterministic pseudo-random sequence, so a failure replays the same way.
function sequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

/** The far end of the fake connection as a plain net.Socket (AF_UNIX); it owns the fd. */
function farEnd(fd: number): net.Socket {
  return new net.Socket({ fd, readable: true, writable: true });
}

async function connected(): Promise<ReturnType<typeof hvsock.connect>> {
  const socket = hvsock.connect({ cid: 3, port: 5000, io: 'poll' });
  await once(socket, 'connect');
  return socket;
}

describe('poll path: EAGAIN storms and short writes', () => {
  it('writes 8 MiB intact through short writes and EAGAIN bursts, honouring backpressure', async () => {
    const random = sequence(7);
    let calls = 0;
    let eagains = 0;
    const kernel = script({
      writev(real, fd, buffers) {
        calls += 1;
        if (random() < 0.3) {
          eagains += 1;
          return EAGAIN;
        }
        // Hand the kernel only a prefix: 1 byte up to the first buffer's size.
        const first = buffers[0];
        const cut = Math.max(1, Math.floor(random() * first.length));
        return real(fd, [first.subarray(0, cut)]);
      },
    });
    const socket = await connected();
    expect(socket).toBeInstanceOf(hvsock.PollSocket);
    const received = digestUntilEnd(farEnd(kernel.takePeerFd()));
    const sent = await sendPattern(socket as net.Socket, 8 << 20);
    expect(await received).toEqual({ bytes: sent.bytes, sha256: sent.sha256 });
    expect(sent.maxQueued).toBeLessThanOrEqual(socket.writableHighWaterMark + 64 * 1024);
    expect(eagains).toBeGreaterThan(10);
    expect(calls).toBeGreaterThan(100);
    expect(socket.bytesWritten).toBe(8 << 20);
  });

  it('reads 8 MiB intact through spurious EAGAINs and 1-byte reads', async () => {
    const random = sequence(11);
    let eagains = 0;
    const kernel = script({
      read(real, fd, buffer) {
        const r = random();
        if (r < 0.3) {
          eagains += 1;
          return EAGAIN; // the watcher fires again: the data is still there
        }
        return real(fd, r < 0.4 ? buffer.subarray(0, 1) : buffer);
      },
    });
    const socket = await connected();
    const got = digestUntilEnd(socket);
    const sent = await sendPattern(farEnd(kernel.takePeerFd()), 8 << 20);
    expect(await got).toEqual({ bytes: sent.bytes, sha256: sent.sha256 });
    expect(eagains).toBeGreaterThan(10);
    expect(socket.bytesRead).toBe(8 << 20);
  });

  it('a read error mid-transfer destroys the socket with a typed error, once', async () => {
    let reads = 0;
    const kernel = script({
      read(real, fd, buffer) {
        reads += 1;
        return reads === 3 ? -104 : real(fd, buffer);
      },
    });
    const socket = await connected();
    const far = farEnd(kernel.takePeerFd());
    let closes = 0;
    socket.on('close', () => closes++);
    socket.on('data', () => undefined);
    const errored = once(socket, 'error');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    far.on('error', () => undefined); // its writes may meet our closed end (EPIPE)
    for (let i = 0; i < 5; i++) {
      far.write(randomBytes(1000));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const [error] = await errored;
    expect(error).toMatchObject({ code: 'ECONNRESET', errno: -104, syscall: 'read', cid: 3, port: 5000 });
    await closed;
    expect(closes).toBe(1);
    far.destroy();
  });

  it('EOF mid-stream: end then close; allowHalfOpen keeps the writable side', async () => {
    const kernel = script({});
    const socket = hvsock.connect({ cid: 3, port: 5000, io: 'poll', allowHalfOpen: true });
    await once(socket, 'connect');
    const far = farEnd(kernel.takePeerFd());
    const farGot = readAll(far);
    far.end('last words');
    expect((await readAll(socket)).toString()).toBe('last words');
    expect(socket.writable).toBe(true);
    const closed = once(socket, 'close');
    socket.end('reply after end');
    expect((await farGot).toString()).toBe('reply after end');
    await closed;
  });

  it('EPIPE on write: the write callback and the socket get the typed error', async () => {
    script({ writev: () => -32 });
    const socket = await connected();
    const written = new Promise<Error | null | undefined>((resolve) => socket.write('x', resolve));
    const [error] = await once(socket, 'error');
    expect(error).toMatchObject({ code: 'EPIPE', errno: -32, syscall: 'write', address: 'vsock://3:5000' });
    expect(await written).toBe(error);
  });
});

describe('poll path: flow control and timers', () => {
  it('a paused socket stops reading at its highWaterMark: the writer sees backpressure', async () => {
    const kernel = script({});
    const socket = await connected();
    const far = farEnd(kernel.takePeerFd());
    socket.pause();
    const block = Buffer.alloc(64 * 1024, 1);
    let written = 0;
    while (far.write(block)) written += block.length; // until the kernel's socket buffers fill
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Reading stopped once push() said enough: at most the buffer plus one read chunk.
    expect(socket.readableLength).toBeLessThanOrEqual(socket.readableHighWaterMark + 64 * 1024);
    expect(socket.readableLength).toBeGreaterThan(0);
    const drained = once(far, 'drain');
    socket.resume(); // reading resumes, the writer drains
    await drained;
    const ended = once(socket, 'end');
    far.end();
    await ended;
    expect(socket.bytesRead).toBe(written + block.length); // nothing lost while paused
  });

  it("setTimeout(): 'timeout' after idle time, reset by traffic, off with 0", async () => {
    const kernel = script({});
    const socket = await connected();
    const far = farEnd(kernel.takePeerFd());
    socket.on('data', () => undefined);
    const started = Date.now();
    socket.setTimeout(150);
    expect(socket.timeout).toBe(150);
    const ticker = setInterval(() => far.write('x'), 30); // traffic keeps it from firing
    await new Promise((resolve) => setTimeout(resolve, 400));
    clearInterval(ticker);
    let fired = 0;
    socket.on('timeout', () => fired++);
    await once(socket, 'timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(fired).toBe(1);
    expect(socket.destroyed).toBe(false); // as net: 'timeout' only tells
    socket.setTimeout(0);
    expect(socket.timeout).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(fired).toBe(1);
    expect(() => socket.setTimeout(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    far.destroy();
    socket.destroy();
  });

  // That unref() really lets the process exit is checked by test/lifecycle.test.ts under HVSOCK_IO=poll.
  it("ref()/unref() return the socket, as net's do", async () => {
    script({});
    const socket = await connected();
    socket.on('data', () => undefined); // reading: the watcher is active
    expect(socket.unref()).toBe(socket);
    expect(socket.ref()).toBe(socket);
    socket.destroy();
    await once(socket, 'close');
  });
});

describe('seqpacket over scripted answers', () => {
  it('a truncated message (MSG_TRUNC) is a typed error, never silent', async () => {
    const kernel = script({
      recvmsg(real, fd, buffer, flags) {
        const n = real(fd, buffer, flags);
        if (n > 0) flags[0] |= 0x20; // MSG_TRUNC
        return n;
      },
    });
    const socket = hvsock.connect({ cid: 3, port: 5000, type: 'seqpacket' });
    await once(socket, 'connect');
    const messages: Buffer[] = [];
    socket.on('message', (m) => messages.push(m));
    const far = farEnd(kernel.takePeerFd());
    far.write('cut short');
    const [error] = await once(socket, 'error');
    expect(error).toMatchObject({ code: 'ERR_HVSOCK_MESSAGE_TRUNCATED', received: 9 });
    expect(messages).toEqual([]);
    expect(socket.destroyed).toBe(true);
    far.destroy();
  });
});

it('the io option is validated synchronously', () => {
  expect(() => hvsock.connect({ cid: 3, port: 1, io: 'fast' as never })).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
  );
  expect(() => hvsock.createServer({ io: 1 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
});

describe('poll path: watcher and accept failures are reported, and bounded', () => {
  const EEXIST = -17;

  it("a listener whose watcher can't start emits 'error' (syscall listen), never 'listening'", async () => {
    const installed = installFakeBinding({ listener: true, pollStart: () => EEXIST });
    restore = installed.restore;
    const server = hvsock.createServer({ io: 'poll' });
    let listening = false;
    server.on('listening', () => (listening = true));
    server.listen({ port: 5000 });
    const [error] = await once(server, 'error');
    expect(error).toMatchObject({ code: 'EEXIST', syscall: 'listen' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(listening).toBe(false);
    expect(server.listening).toBe(false);
    expect(await installed.kernel.allClosed()).toBe(true); // the listener's fd was closed
  });

  it("a socket whose watcher can't start reading is destroyed with the error (syscall poll), not left hanging", async () => {
    const installed = installFakeBinding({ connect: 0, pollStart: (real, events) => (events & 1 ? EEXIST : real(events)) });
    restore = installed.restore;
    const socket = hvsock.connect({ cid: 3, port: 5000, io: 'poll' });
    const [error] = await once(socket, 'error');
    expect(error).toMatchObject({ code: 'EEXIST', errno: EEXIST, syscall: 'poll', cid: 3, port: 5000 });
    await once(socket, 'close');
  });

  it("a persistent accept failure: one 'error', retries paced by the backoff instead of every loop turn", async () => {
    const installed = installFakeBinding({ listener: true });
    restore = installed.restore;
    const server = hvsock.createServer({ io: 'poll' });
    let errors = 0;
    server.on('error', () => errors++);
    server.listen({ port: 5000 });
    await once(server, 'listening');
    // The far end's byte makes the stand-in listener readable for good;
    // accept4 on a socketpair end fails (EINVAL) every time, as a broken
    // listener would.
    const far = farEnd(installed.kernel.takePeerFd());
    far.write('x');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const accepts = installed.kernel.calls.filter((call) => call.startsWith('accept')).length;
    console.log(`persistent accept failure over 500 ms: ${accepts} accept calls, ${errors} 'error' events`);
    expect(errors).toBe(1);
    expect(accepts).toBeGreaterThanOrEqual(2); // it does retry
    expect(accepts).toBeLessThanOrEqual(8); // 50, 100, 200 ms backoff: ~4
    await new Promise<void>((resolve) => server.close(() => resolve()));
    far.destroy();
  });
});

describe('poll server accepting', () => {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  // vsock's non-blocking accept on an empty queue sleeps until the next timer
  // tick (up to 4 ms), so the server must never call accept when the queue
  // may be empty: once per readiness event, not "until EAGAIN".
  it('accepts one connection per readiness event and never calls accept on an empty queue', async () => {
    const QUEUED = 3;
    const handedOut: number[] = [];
    let emptyQueueCalls = 0;
    const installed = installFakeBinding({
      listener: true,
      accept(_real, fd) {
        if (handedOut.length === QUEUED) {
          emptyQueueCalls++;
          return EAGAIN;
        }
        const pair = hvsockBinding().standInPair!() as [number, number];
        handedOut.push(pair[1]);
        // The stand-in listener is readable while connections are queued:
        // taking the last one consumes the far end's byte.
        if (handedOut.length === QUEUED) hvsockBinding().read!(fd, Buffer.alloc(1));
        return pair[0];
      },
    });
    restore = installed.restore;
    const server = hvsock.createServer({ io: 'poll' });
    const accepted: net.Socket[] = [];
    server.on('connection', (socket: net.Socket) => accepted.push(socket));
    server.listen({ port: 5000 });
    await once(server, 'listening');
    const far = farEnd(installed.kernel.takePeerFd());
    far.write('x');
    while (accepted.length < QUEUED) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50)); // any further loop turns
    const accepts = installed.kernel.calls.filter((call) => call.startsWith('accept')).length;
    expect({ accepted: accepted.length, accepts, emptyQueueCalls }).toEqual({ accepted: QUEUED, accepts: QUEUED, emptyQueueCalls: 0 });
    for (const socket of accepted) socket.destroy();
    for (const fd of handedOut) hvsockBinding().close(fd);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    far.destroy();
  });
});

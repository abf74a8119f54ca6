// SeqpacketSocket's send machinery on the host, over AF_UNIX SOCK_SEQPACKET
// socketpairs (lib/testing/standin.ts): AF_UNIX keeps message boundaries and its
// blocking sends wait while the peer reads nothing, as vsock's do, so the
// thread, lifetime and buffer-ownership rules are checked here at native
// speed; test/linux/poll/seqpacket.test.ts runs the same socket over real vsock.
import { spawnSync } from 'node:child_process';
import { pbkdf2 } from 'node:crypto';
import * as dns from 'node:dns';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installFakeBinding } from '../../helpers/fake-binding';

import type { NativeBinding } from '../../../lib/binding';

const load = createRequire(__filename);
const address: typeof import('../../../lib/address/index') = load('../../../dist/address/index.js');
const bindingModule: typeof import('../../../lib/binding') = load('../../../dist/binding.js');
const standin: typeof import('../../../lib/testing/standin') = load('../../../dist/testing/standin.js');
const seqpacket: typeof import('../../../lib/linux/poll/seqpacket') = load('../../../dist/linux/poll/seqpacket.js');

type Socket = InstanceType<typeof seqpacket.SeqpacketSocket>;

const MESSAGE = 120 * 1024; // two fill an AF_UNIX socket's default send buffer (208 KiB)

afterEach(() => bindingModule.replaceBindingForTesting());

/** Resolves with `promise`'s value, or rejects once `ms` pass (a stalled call fails the test instead of hanging it). */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends until a message stays in the kernel (the peer reads nothing); returns the send results to come. */
async function stall(sender: Socket): Promise<Promise<Error | null>[]> {
  const results: Promise<Error | null>[] = [];
  for (let i = 0; i < 4; i++) results.push(new Promise((resolve) => sender.send(Buffer.alloc(MESSAGE, i), resolve)));
  await tick(100);
  expect(sender.pendingMessages).toBeGreaterThanOrEqual(2); // one blocked in send(), one behind it
  return results;
}

/** Whether the far end `fd` of a pair sees its peer closed (recvmsg returns 0, not EAGAIN). */
function peerClosed(fd: number): boolean {
  const native = bindingModule.binding();
  for (;;) {
    const n = native.recvmsg!(fd, Buffer.alloc(MESSAGE), new Int32Array(1));
    if (n <= 0) return n === 0;
  }
}

/** The real addon with some functions replaced. */
function patchBinding(patch: Partial<NativeBinding>): void {
  const real = bindingModule.binding();
  bindingModule.replaceBindingForTesting({ ...real, ...patch } as NativeBinding);
}

describe('seqpacket sends do not touch the threadpool', () => {
  it('8 peers that never read stall only their own sockets: fs, dns.lookup, crypto, zlib and another socket keep working', async () => {
    const pairs = Array.from({ length: 8 }, () => standin.standInSeqpacketPair());
    for (const [, reader] of pairs) reader.pause();
    const stalled = await Promise.all(pairs.map(([sender]) => stall(sender)));
    // Each of these waits for a libuv threadpool thread (4 by default).
    await within(2000, 'fs.readFile', fs.readFile(__filename));
    await within(2000, 'dns.lookup', dns.promises.lookup('localhost'));
    await within(2000, 'crypto.pbkdf2', promisify(pbkdf2)('secret', 'salt', 1, 32, 'sha256'));
    await within(2000, 'zlib.gzip', promisify(gzip)('text'));
    // A socket whose peer reads is not held up by the stalled ones.
    const [a, b] = standin.standInSeqpacketPair();
    const got = once(b, 'message');
    const sent = new Promise<Error | null>((resolve) => a.send('through', resolve));
    expect(await within(2000, "another socket's send", sent)).toBeNull();
    expect(String((await within(2000, "another socket's message", got))[0])).toBe('through');
    // destroy() frees the stalled sends: every result arrives, the fds close.
    for (const [sender, reader] of [...pairs, [a, b]]) {
      sender.destroy();
      reader.destroy();
    }
    const results = await within(2000, 'stalled sends after destroy()', Promise.all(stalled.flat()));
    expect(results.filter((e) => e !== null).length).toBeGreaterThanOrEqual(16);
    expect(results.every((e) => e === null || ['ERR_SOCKET_CLOSED', 'EPIPE'].includes((e as { code?: string }).code ?? ''))).toBe(true);
  });

  it("the idle 'timeout' fires while a send is stalled, and destroy() in its handler frees it", async () => {
    const [sender, reader] = standin.standInSeqpacketPair();
    reader.pause();
    const results = await stall(sender);
    const events: string[] = [];
    sender.setTimeout(200, () => {
      events.push('timeout');
      sender.destroy();
    });
    await within(3000, "'close' after the idle timeout", once(sender, 'close'));
    const errors = await within(2000, 'send results', Promise.all(results));
    expect(events).toEqual(['timeout']);
    expect(errors.slice(2).every((e) => e !== null)).toBe(true);
    reader.destroy();
  });
});

describe('seqpacket send() owns its bytes', () => {
  it('what the peer receives does not depend on what the caller does with its buffer after send() returns', async () => {
    const [sender, reader] = standin.standInSeqpacketPair();
    reader.pause();
    const expected: Buffer[] = [];
    const detachAfterSend = (fill: number): void => {
      const bytes = new Uint8Array(MESSAGE).fill(fill);
      expected.push(Buffer.from(bytes));
      sender.send(bytes);
      // Transferring detaches `bytes` and hands its memory to `moved`; writing
      // there is what a caller reusing the memory would do.
      const moved = structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
      new Uint8Array(moved).fill(0x42);
      expect(bytes.byteLength).toBe(0);
    };
    detachAfterSend(0x41); // into the kernel at once
    detachAfterSend(0x43);
    detachAfterSend(0x44); // blocked in send(): the peer is full
    detachAfterSend(0x45); // waiting behind it
    const view = Buffer.alloc(1000, 0x46);
    expected.push(Buffer.from(view));
    sender.send(view);
    view.fill(0x47); // plain reuse of a Buffer
    const got = new Promise<Buffer[]>((resolve) => {
      const messages: Buffer[] = [];
      reader.on('message', (message: Buffer) => {
        messages.push(message);
        if (messages.length === expected.length) resolve(messages);
      });
      reader.on('end', () => resolve(messages));
    });
    reader.resume();
    const messages = await within(3000, 'messages', got);
    expect(messages.map((m) => m.length)).toEqual(expected.map((m) => m.length));
    messages.forEach((message, i) => expect(message.equals(expected[i]), `message ${i}`).toBe(true));
    sender.destroy();
    reader.destroy();
  });

  it('a message sent while connecting is copied at send() too', async () => {
    // connect() answers EINPROGRESS and the socketpair is writable at once:
    // the library's own connect completion runs over the stand-in.
    patchBinding({ connect: () => -115 });
    const [fd, peerFd] = standin.standInPair(2);
    const socket = new seqpacket.SeqpacketSocket();
    socket.attach(fd);
    socket.startConnect(address.endpointOf(1, 1234));
    const bytes = new Uint8Array(5000).fill(0x61);
    socket.send(bytes);
    structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
    await within(2000, "'connect'", once(socket, 'connect'));
    const peer = seqpacket.acceptSeqpacket(peerFd, {});
    const [message] = await within(2000, 'message', once(peer, 'message'));
    expect(Buffer.compare(message, Buffer.alloc(5000, 0x61))).toBe(0);
    socket.destroy();
    peer.destroy();
  });
});

describe('seqpacket setup failures close the descriptor', () => {
  // The receive buffer is clamped to Buffer's kMaxLength, which a 64-bit
  // host with overcommit may well allocate: make a buffer of 1 GiB or more
  // fail as it does where memory is short.
  const failHugeAllocations = (): void => {
    const allocUnsafe = Buffer.allocUnsafe.bind(Buffer);
    vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
      if (size >= 2 ** 30) throw new RangeError(`Array buffer allocation failed (${size} bytes)`);
      return allocUnsafe(size);
    });
  };
  afterEach(() => vi.restoreAllMocks());

  it('accepted: a receive buffer that cannot be allocated throws from the factory with the fd closed', () => {
    patchBinding({ getOption: () => 2 ** 60 }); // the kernel's u64, clamped to Buffer's limit
    failHugeAllocations();
    const [fd, peerFd] = standin.standInPair(2);
    expect(() => seqpacket.acceptSeqpacket(fd, {})).toThrow(RangeError);
    expect(peerClosed(peerFd)).toBe(true);
    bindingModule.binding().close(peerFd);
  });

  it('accepted: a sender that cannot be made (dup fails) throws with the fd closed', () => {
    const real = bindingModule.binding();
    patchBinding({
      MessageSender: function () {
        throw Object.assign(new Error('dup'), { errno: -24, syscall: 'dup' });
      } as unknown as NativeBinding['MessageSender'],
    });
    const [fd, peerFd] = standin.standInPair(2);
    expect(() => seqpacket.acceptSeqpacket(fd, {})).toThrow('dup');
    expect(peerClosed(peerFd)).toBe(true);
    real.close(peerFd);
  });

  it("connected: the failure is the socket's 'error', then 'close', with the fd closed", async () => {
    patchBinding({ connect: () => -115, getOption: () => 2 ** 60 });
    failHugeAllocations();
    const [fd, peerFd] = standin.standInPair(2);
    const socket = new seqpacket.SeqpacketSocket();
    socket.attach(fd);
    socket.startConnect(address.endpointOf(1, 1234));
    const [error] = await within(2000, "'error'", once(socket, 'error'));
    expect(error).toBeInstanceOf(RangeError);
    await within(2000, "'close'", once(socket, 'close'));
    expect(peerClosed(peerFd)).toBe(true);
    bindingModule.binding().close(peerFd);
  });
});

describe('process exit with seqpacket sends blocked', () => {
  for (const how of ['exit', 'sigterm']) {
    it(`${how === 'exit' ? 'process.exit()' : 'a SIGTERM handler calling process.exit()'} returns promptly`, () => {
      const started = Date.now();
      const run = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'fixtures', 'exit-blocked-sends.js'), 'standin', how], {
        encoding: 'utf8',
        timeout: 10_000,
        killSignal: 'SIGKILL', // a hung exit may have SIGTERM handled
      });
      const elapsed = Date.now() - started;
      expect(run.stderr).toBe('');
      expect(run).toMatchObject({ status: 7, signal: null, stdout: 'blocked\n' });
      expect(elapsed).toBeLessThan(5_000);
    });
  }
});

describe('highWaterMark is settable (it was exported but fixed at 64 KiB)', () => {
  it('createServer({ type: "seqpacket", highWaterMark }) gives accepted sockets that mark', () => {
    const [a, b] = standin.standInPair(bindingModule.SOCKET_SEQPACKET);
    const accepted = seqpacket.acceptSeqpacket(a, { highWaterMark: 1024 });
    const other = seqpacket.acceptSeqpacket(b, {});
    expect(accepted.highWaterMark).toBe(1024); // before: 65536 whatever was asked
    expect(other.highWaterMark).toBe(64 * 1024);
    accepted.destroy();
    other.destroy();
  });

  it('connect({ type: "seqpacket", highWaterMark }) takes it, and both validate it synchronously', () => {
    const hvsock: typeof import('../../../lib/index') = load('../../../dist/index.js');
    const { restore } = installFakeBinding({ connect: -115, pollStart: () => 0 }); // never connects: no vsock
    try {
      const socket = hvsock.connect({ cid: 3, port: 5000, type: 'seqpacket', highWaterMark: 4096 });
      expect(socket.highWaterMark).toBe(4096); // before: 65536
      socket.on('error', () => undefined);
      socket.destroy();
      expect(() => hvsock.connect({ cid: 3, port: 5000, type: 'seqpacket', highWaterMark: 0 })).toThrow(
        expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
      );
      expect(() => hvsock.createServer({ type: 'seqpacket', highWaterMark: '1' as never })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
      );
    } finally {
      restore();
    }
  });
});

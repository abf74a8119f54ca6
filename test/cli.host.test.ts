// The CLI's clients against misbehaving peers, in-process on the host: the
// fake binding (helpers/fake-binding.ts) gives them a socketpair, whose far
// end plays the peer. Nothing here touches AF_VSOCK.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { useScriptedKernel } from './helpers/fake-binding';

const load = createRequire(__filename);
const { pingCommand }: typeof import('../lib/cli/ping') = load('../dist/cli/ping.js');
const { benchCommand }: typeof import('../lib/cli/bench') = load('../dist/cli/bench.js');

const script = useScriptedKernel(afterEach);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;

describe('CLI clients keep bounded memory whatever the peer sends', () => {
  it('ping: a peer that sends more than the echo fails the command instead of piling up', async () => {
    const kernel = script({});
    const run = pingCommand.run({ count: '5', size: '64' }, ['vsock://3:5000']);
    const far = new net.Socket({ fd: kernel.takePeerFd(), readable: true, writable: true });
    far.on('error', () => undefined);
    // Never echoes: answers the first message with 32 MiB of something else.
    far.once('data', () => {
      for (let i = 0; i < 32; i++) far.write(Buffer.alloc(MiB, 1));
    });
    const outcome = await Promise.race([
      run.then(
        () => 'resolved',
        (error: Error) => error.message,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s (buffering what the peer sends)'), 5000)),
    ]);
    expect(outcome).toMatch(/ping: the peer sent more than it was sent/);
    // Nothing of the flood is kept (before: the socket kept reading it into
    // one growing buffer). Wait until the far end's queue is gone (all
    // delivered, or dropped on EPIPE), so only what ping holds is measured.
    await new Promise((resolve) => {
      const check = (): void => void (far.writableLength === 0 || far.destroyed ? resolve(undefined) : setTimeout(check, 20));
      check();
    });
    // The far end's pending write requests keep their buffers until its
    // handle has really closed (libuv's close callback, a loop turn later):
    // measure only after that, or the flood still queued there is counted.
    if (!far.closed) {
      const closed = once(far, 'close');
      far.destroy();
      await closed;
    }
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const held = process.memoryUsage().arrayBuffers;
    console.log(`ping against a flooding peer: ${(held / MiB).toFixed(1)} MiB in ArrayBuffers after GC`);
    expect(held).toBeLessThan(8 * MiB);
  });

  it('bench: an echo peer (not a sink) gets its byte count reported, without bench keeping the bytes', async () => {
    const kernel = script({});
    const total = 64 * MiB;
    const run = benchCommand.run({ bytes: '64M' }, ['vsock://3:5000']);
    run.catch(() => undefined);
    const far = new net.Socket({ fd: kernel.takePeerFd(), readable: true, writable: true, allowHalfOpen: true });
    far.on('error', () => undefined);
    let echoed = 0;
    far.on('data', (data: Buffer) => {
      echoed += data.length;
      far.write(data);
    });
    await once(far, 'end');
    if (far.writableLength > 0) await once(far, 'drain');
    // Bench reads the last echoes at its own pace (slower on a loaded
    // machine): sample until what is held falls under the bound, for up to
    // 5 s. Old code kept every echoed byte (> 64 MiB) for as long as it ran,
    // so it never gets there.
    let held = Number.POSITIVE_INFINITY;
    for (const started = Date.now(); Date.now() - started < 5000; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      gc();
      held = process.memoryUsage().arrayBuffers;
      if (held < total / 4) break;
    }
    console.log(`bench against an echo peer: ${echoed} bytes echoed, ${(held / MiB).toFixed(1)} MiB in ArrayBuffers after GC`);
    expect(echoed).toBe(total);
    expect(held).toBeLessThan(total / 4); // before: every echoed byte was kept (> 64 MiB)
    far.end();
    await expect(run).rejects.toThrow(`bench: the peer sent back ${total} bytes: bench expects a sink`);
  });
});

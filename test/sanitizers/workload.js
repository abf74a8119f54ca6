// The valgrind workload (test/sanitizers/valgrind.mjs): exercises the addon's
// allocation paths on the host without ever connecting AF_VSOCK:
//   - stand-in connections (AF_UNIX pairs from the addon, adopted exactly as
//     connect() adopts a vsock fd): checksummed transfers, half-close, close;
//   - Pollers: readable events, stop/start, ref/unref, release, close, and
//     pollers dropped without close() (finalizer path);
//   - vsock listeners: socket/bind/getsockname/listen/close (allowed on the host);
//   - message senders (native/addon_message_sender.cc) on stand-in SEQPACKET pairs:
//     messages through, a send stalled on a peer that reads nothing and
//     freed by destroy(), a sender dropped unused (finalizer path);
//   - a Worker that loads the addon, opens pollers and senders with a send
//     blocked in the kernel, and is terminated (environment teardown hooks).
// Run with --expose-gc so finalizers run before exit.
'use strict';
const { once } = require('node:events');
const { Worker } = require('node:worker_threads');
const { createHash, randomBytes } = require('node:crypto');
const hvsock = require('hvsock');
const { binding } = require('../../dist/binding.js');
const { standInPair, standInSeqpacketPair, standInSocket } = require('../../dist/testing/standin.js');

const ROUNDS = Number(process.env.HVSOCK_VALGRIND_ROUNDS ?? 20);

async function transfer(bytes) {
  const [a, b] = standInPair();
  const writer = standInSocket(a);
  const reader = standInSocket(b);
  const payload = randomBytes(bytes);
  const got = [];
  reader.on('data', (chunk) => got.push(chunk));
  const ended = once(reader, 'end');
  writer.end(payload);
  await ended;
  reader.end();
  await Promise.all([once(reader, 'close'), once(writer, 'close')]);
  const same = createHash('sha256').update(Buffer.concat(got)).digest('hex') === createHash('sha256').update(payload).digest('hex');
  if (!same) throw new Error('stand-in transfer corrupted');
}

async function pollers() {
  const native = binding();
  const [a, b] = standInPair();
  let events = 0;
  const poller = new native.Poller(
    a,
    () => {
      events++;
      poller.stop();
    },
    true,
  );
  poller.unref();
  poller.ref();
  poller.start(1); // readable
  native.close(b); // peer gone: a becomes readable (EOF)
  while (events === 0) await new Promise((resolve) => setImmediate(resolve));
  poller.close(); // closes the poll, then fd a
  poller.close(); // idempotent

  const [c, d] = standInPair();
  const released = new native.Poller(c, () => undefined, true);
  released.start(2);
  released.release(); // fd c stays open, ours to close
  native.close(c);
  native.close(d);

  // Dropped without close(): the wrapper's finalizer must close the poll (and fd).
  const [e, f] = standInPair();
  new native.Poller(e, () => undefined, true);
  native.close(f);
}

async function senders() {
  const [a, b] = standInSeqpacketPair();
  const got = once(b, 'message');
  a.send(randomBytes(1000));
  await got;
  b.pause(); // reads nothing: the third 120 KiB message blocks in send()
  const results = Array.from({ length: 4 }, () => new Promise((resolve) => a.send(Buffer.alloc(120 * 1024), resolve)));
  await new Promise((resolve) => setTimeout(resolve, 50));
  a.destroy(); // wakes the blocked send, ends the thread
  b.destroy();
  await Promise.all([...results, once(a, 'close'), once(b, 'close')]);

  // Dropped without close(): the wrapper's finalizer must close the sender (and its dup).
  const [c, d] = standInPair(2);
  new (binding().MessageSender)(c, () => undefined);
  binding().close(c);
  binding().close(d);
}

async function listeners() {
  const server = hvsock.createServer();
  await new Promise((resolve) => {
    server.once('error', resolve); // no vsock transport: fine, the error path runs
    server.listen({ port: 0 }, resolve);
  });
  await new Promise((resolve) => server.close(resolve));
}

async function worker() {
  const w = new Worker(
    `const { binding } = require(${JSON.stringify(require.resolve('../../dist/binding.js'))});
     const { standInPair } = require(${JSON.stringify(require.resolve('../../dist/testing/standin.js'))});
     const { parentPort } = require('node:worker_threads');
     for (let i = 0; i < 4; i++) {
       const [a, b] = standInPair();
       new (binding().Poller)(a, () => undefined, true).start(1);
       new (binding().Poller)(b, () => undefined, true).start(2);
     }
     const [c, d] = standInPair(2); // d reads nothing: the third send blocks
     binding().setBlocking(c, true);
     const sender = new (binding().MessageSender)(c, () => undefined);
     for (let i = 0; i < 3; i++) sender.send(Buffer.alloc(120 * 1024));
     parentPort.postMessage('ready');
     setInterval(() => undefined, 1000);`,
    { eval: true },
  );
  await once(w, 'message');
  await w.terminate();
}

(async () => {
  for (let i = 0; i < ROUNDS; i++) {
    await transfer(256 * 1024);
    await pollers();
    await senders();
    await listeners();
  }
  await worker();
  for (let i = 0; i < 3; i++) {
    global.gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  console.log(`workload done: ${ROUNDS} rounds`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});

// The valgrind workload (test/sanitizers/valgrind.mjs): exercises the addon's
// allocation paths on the host without ever connecting AF_VSOCK:
//   - stand-in connections (AF_UNIX pairs from the addon, adopted exactly as
//     connect() adopts a vsock fd): checksummed transfers, half-close, close;
//   - Pollers: readable events, stop/start, ref/unref, release, close, and
//     pollers dropped without close() (finalizer path);
//   - vsock listeners: socket/bind/getsockname/listen/close (allowed on the host);
//   - a Worker that loads the addon, opens pollers and is terminated
//     (environment teardown hook).
// Run with --expose-gc so finalizers run before exit.
'use strict';
const { once } = require('node:events');
const { Worker } = require('node:worker_threads');
const { createHash, randomBytes } = require('node:crypto');
const hvsock = require('hvsock');
const { binding } = require('../../dist/binding.js');
const { standInPair, standInSocket } = require('../../dist/standin.js');

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
  const poller = new native.Poller(a, () => {
    events++;
    poller.stop();
  }, true);
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
     const { standInPair } = require(${JSON.stringify(require.resolve('../../dist/standin.js'))});
     const { parentPort } = require('node:worker_threads');
     for (let i = 0; i < 4; i++) {
       const [a, b] = standInPair();
       new (binding().Poller)(a, () => undefined, true).start(1);
       new (binding().Poller)(b, () => undefined, true).start(2);
     }
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

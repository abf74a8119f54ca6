// The overlapped path (lib/win/overlapped.ts, native/overlapped_win32.cc)
// where it differs from the handle path: the send loop under injected
// partial sends, destroy() with overlapped I/O pending, Workers terminated
// with I/O pending, and that it is the Windows default. Pinned to
// io: 'overlapped', so both runs of the suite (test/win/run.mjs) test it.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { once } = require('node:events');
const hvsock = require('hvsock');
const { setInetStandInForTesting, setSendCapForTesting } = require('../../dist/win/transport.js');
const { OverlappedSocket } = require('../../dist/win/overlapped.js');
const { pickIoPath } = require('../../dist/io-path.js');
const { openHandles } = require('./fixtures/handles.js');
const { fillUntilStuck } = require('./fixtures/fill.js');
const { sendChecksummed, receiveChecksummed } = require('./fixtures/streams.js');

setInetStandInForTesting(true);

const io = 'overlapped';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const closeServer = (server) => new Promise((resolve) => server.close(resolve));

async function listen(onConnection, options = {}) {
  const server = hvsock.createServer({ io, ...options }, onConnection);
  server.listen({ serviceId: hvsock.serviceIdFromPort(0) });
  await once(server, 'listening');
  return server;
}

function connectTo(server, options = {}) {
  return hvsock.connect({ vmId: hvsock.VmId.LOOPBACK, serviceId: server.address().serviceId, io, ...options });
}

test('the overlapped path is the Windows default (no io option, no HVSOCK_IO)', () => {
  const saved = process.env.HVSOCK_IO;
  delete process.env.HVSOCK_IO;
  try {
    assert.strictEqual(pickIoPath(undefined), 'overlapped');
  } finally {
    if (saved !== undefined) process.env.HVSOCK_IO = saved;
  }
  assert.strictEqual(pickIoPath('handle'), 'handle');
  assert.throws(() => pickIoPath('poll'), { code: 'ERR_HVSOCK_UNSUPPORTED_PLATFORM' });
  assert.throws(() => pickIoPath('iocp'), { code: 'ERR_INVALID_ARG_VALUE' });
});

// OverlappedSocket is a DuplexSocket (lib/duplex/), no longer a PollSocket:
// vsockAddressOf() must still know it as one of ours (a Hyper-V end has no
// CID, so both are undefined, not the socket unrecognised).
test('vsockAddressOf() recognises an OverlappedSocket on both ends', async () => {
  let accepted;
  const server = await listen((socket) => {
    accepted = socket;
  });
  const socket = connectTo(server);
  await once(socket, 'connect');
  while (accepted === undefined) await sleep(5);
  assert.ok(socket instanceof OverlappedSocket);
  assert.ok(accepted instanceof OverlappedSocket);
  assert.deepStrictEqual(hvsock.vsockAddressOf(socket), { local: undefined, remote: undefined });
  assert.deepStrictEqual(hvsock.vsockAddressOf(accepted), { local: undefined, remote: undefined });
  socket.destroy();
  accepted.destroy();
  await closeServer(server);
});

// Echoes `total` bytes through a server whose sockets, like the client's,
// send at most `cap` bytes per WSASend: every write of more completes
// partially, and only the send loop delivers the rest.
async function cappedEcho(t, total, blockSize, cap) {
  setSendCapForTesting(cap);
  let server;
  let socket;
  try {
    server = await listen((accepted) => accepted.pipe(accepted));
    socket = connectTo(server);
    await once(socket, 'connect');
  } finally {
    setSendCapForTesting(0); // sockets keep the cap they were opened with
  }
  assert.ok(socket instanceof OverlappedSocket);
  const started = performance.now();
  const [sent, received] = await Promise.all([sendChecksummed(socket, total, blockSize), receiveChecksummed(socket)]);
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(
    `${total} bytes echoed with WSASend capped at ${cap} bytes in ${seconds.toFixed(1)} s; ${socket.bytesWritten} written, ${received.count} read`,
  );
  assert.strictEqual(socket.bytesWritten, total);
  assert.strictEqual(received.count, total);
  assert.strictEqual(received.digest, sent);
  await closeServer(server);
}

test(
  'injected partial sends: 64 MiB checksummed echo with every WSASend capped at 4093 bytes, every byte in order',
  { timeout: 300_000 },
  (t) => cappedEcho(t, 64 * 1024 * 1024, 1024 * 1024, 4093),
);

test('injected partial sends: 30 KB echoed 3 bytes per WSASend, every byte in order', { timeout: 120_000 }, (t) =>
  cappedEcho(t, 10 * 3001, 3001, 3),
);

test('destroy() with a WSASend and WSARecvs pending: one close, no late callbacks, no leak', { timeout: 120_000 }, async (t) => {
  await sleep(300);
  const before = openHandles();
  for (let round = 0; round < 20; round++) {
    const accepted = [];
    const server = await listen((socket) => accepted.push(socket), { pauseOnConnect: true });
    const socket = connectTo(server);
    await once(socket, 'connect');
    while (accepted.length < 1) await sleep(5);
    // The peer never reads: writes pile up (loopback TCP buffers some MiB)
    // until one WSASend stays pending.
    const block = Buffer.alloc(1 << 20, round);
    let callbacks = 0;
    const buffered = await fillUntilStuck(socket, block, () => callbacks++);
    assert.ok(buffered > 0, 'a write must still be pending');
    const events = [];
    for (const name of ['close', 'error', 'data', 'end', 'drain', 'finish']) socket.on(name, () => events.push(name));
    const doneBefore = callbacks;
    socket.destroy();
    socket.destroy(); // idempotent
    await once(socket, 'close');
    // The SOCKET really closed: the peer, reading now, gets to its end.
    const peer = accepted[0];
    peer.on('error', () => {});
    peer.resume();
    const peerDone = Promise.race([once(peer, 'end'), once(peer, 'error'), once(peer, 'close')]);
    assert.notStrictEqual(await Promise.race([peerDone, sleep(10_000).then(() => 'timeout')]), 'timeout', 'the peer never saw the close');
    peer.destroy();
    await sleep(50);
    assert.deepStrictEqual(events, ['close']);
    assert.ok(callbacks <= doneBefore + 1, 'no write completes after destroy()');
    await closeServer(server);
    if (round === 0) t.diagnostic(`destroyed with ${buffered} bytes buffered`);
  }
  await sleep(500);
  const after = openHandles();
  t.diagnostic(`handles ${before} -> ${after} over 20 rounds`);
  assert.ok(after - before < 20, `open handles went from ${before} to ${after}`);
});

test('a read pending when the peer goes away: end or ECONNRESET, then close, once', async () => {
  let accepted;
  const server = await listen((socket) => (accepted = socket));
  const socket = connectTo(server);
  await once(socket, 'connect');
  while (!accepted) await sleep(5);
  socket.resume(); // a WSARecv is pending
  const closed = once(socket, 'close');
  accepted.destroy();
  const outcome = await Promise.race([once(socket, 'end').then(() => 'end'), once(socket, 'error').then(([e]) => e.code)]);
  assert.ok(['end', 'ECONNRESET', 'ECONNABORTED'].includes(outcome), outcome);
  await closed;
  await closeServer(server);
});

test('a Worker terminated with overlapped reads and a WSASend pending: clean teardown, the completion thread serves on', (t) => {
  const { spawnSync } = require('node:child_process');
  const path = require('node:path');
  const child = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'worker-io-pending.js')], {
    encoding: 'utf8',
    timeout: 90_000,
  });
  assert.strictEqual(child.error, undefined);
  assert.strictEqual(child.status, 0, child.stderr);
  assert.match(child.stdout, /worker 0: terminated with [1-9]\d* bytes in a pending write/);
  assert.match(child.stdout, /terminated 5 workers; main thread: still served/);
  // Each Worker held a listener and two connected SOCKETs with I/O pending:
  // teardown must have closed them all.
  const [, before, after] = child.stdout.match(/handles (\d+) -> (\d+)/).map(Number);
  t.diagnostic(`handles ${before} -> ${after} over 5 terminated Workers`);
  assert.ok(after - before < 5, `open handles went from ${before} to ${after}`);
});

test('setTimeout, ref/unref, address() and the Hyper-V getters on both ends', async () => {
  let accepted;
  const server = await listen((socket) => (accepted = socket));
  const socket = connectTo(server, { timeout: 60_000 });
  await once(socket, 'connect');
  while (!accepted) await sleep(5);
  assert.strictEqual(socket.timeout, 60_000);
  assert.strictEqual(socket.remoteFamily, 'hyperv');
  assert.strictEqual(socket.remoteAddress, hvsock.VmId.LOOPBACK);
  assert.strictEqual(socket.remoteVmId, hvsock.VmId.LOOPBACK);
  assert.strictEqual(socket.remoteServiceId, server.address().serviceId);
  assert.strictEqual(socket.remoteCid, undefined);
  assert.strictEqual(socket.address().family, 'hyperv');
  assert.strictEqual(accepted.remoteServiceId, socket.localServiceId);
  assert.strictEqual(accepted.localServiceId, server.address().serviceId);
  assert.strictEqual(accepted.server, server);
  socket.setTimeout(50);
  await once(socket, 'timeout');
  socket.unref().ref();
  socket.destroy();
  accepted.destroy();
  await closeServer(server);
});

// REAL Hyper-V sockets: AF_HYPERV over HV_GUID_LOOPBACK (this partition to
// itself; no VM needed where the Hyper-V socket provider is present, as on
// GitHub's windows-2022 runners, where go-winio's CI does the same).
// Not the stand-in: nothing here touches lib/win/transport.ts.
//
// Runs only in the suite's real mode: HVSOCK_WIN_REAL=1 node test/win/run.mjs
// (on Windows: HVSOCK_WIN_REAL=1 node --test test/win/real.test.js, once per
// HVSOCK_IO path). Where AF_HYPERV cannot be made (Wine, Windows without
// Hyper-V) the whole file FAILS with "AF_HYPERV is unavailable": a real mode
// that passed without real sockets would prove nothing.
//
// Listeners bind HVSOCK_WIN_REAL_VMID (default: WILDCARD) and a fresh
// service id, registered under HKLM when the process may (GitHub runners
// are elevated) and unregistered at the end.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { once } = require('node:events');
const { randomUUID } = require('node:crypto');
const path = require('node:path');
const { getSystemErrorName } = require('node:util');
const hvsock = require('hvsock');
const { setSendCapForTesting } = require('../../dist/win/transport.js');
const { io, assertPathSocket } = require('./fixtures/io.js');
const { readAll, sendChecksummed, receiveChecksummed, clientEndsFirst, serverEndsFirst } = require('./fixtures/streams.js');

if (process.env.HVSOCK_WIN_REAL !== '1') {
  throw new Error('test/win/real.test.js is the real AF_HYPERV mode: run it with HVSOCK_WIN_REAL=1');
}

// The probe: one real AF_HYPERV socket, or a loud failure.
{
  const native = require('node-gyp-build')(path.join(__dirname, '..', '..'));
  const fd = native.socket(1);
  if (fd < 0) {
    const code = native.win.lastSystemError();
    throw new Error(
      `AF_HYPERV is unavailable here: socket(AF_HYPERV) failed with ${getSystemErrorName(fd)} (Windows error ${code}); ` +
        'the real mode needs Windows 10 / Server 2016+ with the Hyper-V socket provider',
    );
  }
  native.close(fd);
}

const serviceId = randomUUID();
const listenVmId = process.env.HVSOCK_WIN_REAL_VMID || hvsock.VmId.WILDCARD;
let registered = false;
try {
  hvsock.registerService(serviceId, 'hvsock real-mode test');
  registered = true;
} catch (error) {
  process.stderr.write(`[real] service not registered (${error.code}): loopback may not need it\n`);
}
test.after(() => {
  if (registered) hvsock.unregisterService(serviceId);
});

const closeServer = (server) => new Promise((resolve) => server.close(resolve));

async function listen(onConnection, options = {}) {
  const server = hvsock.createServer(options, onConnection);
  server.listen({ vmId: listenVmId, serviceId });
  await once(server, 'listening');
  return server;
}

const connectLoopback = (options = {}) => hvsock.connect({ vmId: hvsock.VmId.LOOPBACK, serviceId, ...options });

test(`real AF_HYPERV (io=${io}): connect/accept over LOOPBACK, getters, options read back`, async () => {
  let accepted;
  const server = await listen((socket) => {
    accepted = socket;
    socket.end('hello over Hyper-V');
  });
  assert.strictEqual(server.address().family, 'hyperv');
  assert.strictEqual(server.address().serviceId, serviceId);
  const socket = connectLoopback({ connectTimeout: 5000 });
  assertPathSocket(socket);
  await once(socket, 'connect');
  assert.strictEqual(socket.remoteFamily, 'hyperv');
  assert.strictEqual(socket.remoteVmId, hvsock.VmId.LOOPBACK);
  assert.strictEqual(socket.remoteServiceId, serviceId);
  assert.strictEqual(socket.connectTimeout, 5000); // HVSOCKET_CONNECT_TIMEOUT read back from the socket
  assert.match(socket.localVmId, /^[0-9a-f-]{36}$/);
  assert.strictEqual((await readAll(socket)).toString(), 'hello over Hyper-V');
  assertPathSocket(accepted);
  assert.strictEqual(accepted.localServiceId, serviceId);
  await closeServer(server);
});

test(`real AF_HYPERV (io=${io}): 64 MiB checksummed each way at once`, { timeout: 300_000 }, async (t) => {
  const total = 64 * 1024 * 1024;
  let serverSide;
  const server = await listen(
    (socket) => {
      serverSide = Promise.all([sendChecksummed(socket, total), receiveChecksummed(socket)]);
    },
    { allowHalfOpen: true },
  );
  const socket = connectLoopback({ allowHalfOpen: true });
  await once(socket, 'connect');
  const started = performance.now();
  const [sentDigest, received] = await Promise.all([sendChecksummed(socket, total), receiveChecksummed(socket)]);
  const [serverSent, serverReceived] = await serverSide;
  t.diagnostic(`2 × 64 MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  assert.strictEqual(received.count, total);
  assert.strictEqual(received.digest, serverSent);
  assert.strictEqual(serverReceived.count, total);
  assert.strictEqual(serverReceived.digest, sentDigest);
  await closeServer(server);
});

test(`real AF_HYPERV (io=${io}): half-close, client ends first (shutdown(SD_SEND))`, () =>
  clientEndsFirst(listen, (_server, options) => connectLoopback(options)));

test(`real AF_HYPERV (io=${io}): half-close, server ends first`, () =>
  serverEndsFirst(listen, (_server, options) => connectLoopback(options)));

test(
  `real AF_HYPERV (io=${io}): partial-send pressure, 16 MiB echoed through a peer that reads slowly`,
  { timeout: 300_000 },
  async (t) => {
    // On the overlapped path every WSASend is also capped (fault injection):
    // the send loop runs on real hvsocket completions.
    if (io === 'overlapped') setSendCapForTesting(65_521);
    let server;
    let socket;
    try {
      server = await listen((accepted) => {
        // Reads in small bursts with pauses: the sender's window fills and its
        // sends complete in pieces, if the provider ever completes partially.
        accepted.on('data', (chunk) => {
          accepted.pause();
          if (!accepted.write(chunk)) accepted.once('drain', () => setTimeout(() => accepted.resume(), 1));
          else setTimeout(() => accepted.resume(), 1);
        });
        accepted.on('end', () => accepted.end());
      });
      socket = connectLoopback();
      await once(socket, 'connect');
    } finally {
      setSendCapForTesting(0);
    }
    const total = 16 * 1024 * 1024;
    const [sent, received] = await Promise.all([sendChecksummed(socket, total), receiveChecksummed(socket)]);
    t.diagnostic(`echoed ${received.count} bytes`);
    assert.strictEqual(received.count, total);
    assert.strictEqual(received.digest, sent);
    await closeServer(server);
  },
);

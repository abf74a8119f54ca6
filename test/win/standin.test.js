// The Windows I/O machinery end to end — native accept thread, connect
// waiter thread, adoption into Node's TCP handle (uv_tcp_open, IOCP), net's own
// connect/accept state machines — over the TEST-ONLY AF_INET loopback
// stand-in (lib/win/transport.ts), since Wine has no Hyper-V. The only thing
// swapped is the socket's family: everything above socket() is the
// AF_HYPERV code path.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { once } = require('node:events');
const { createHash, randomBytes } = require('node:crypto');
const hvsock = require('hvsock');
const { setInetStandInForTesting } = require('../../dist/win/transport.js');
const { io, assertPathSocket } = require('./fixtures/io.js');
const { readAll, clientEndsFirst, serverEndsFirst } = require('./fixtures/streams.js');

setInetStandInForTesting(true);

// A stand-in listener: service id of "port 0" = an ephemeral TCP port.
async function listen(onConnection, options = {}) {
  const server = hvsock.createServer(options, onConnection);
  server.listen({ serviceId: hvsock.serviceIdFromPort(0) });
  await once(server, 'listening');
  return server;
}

function connectTo(server, options = {}) {
  return hvsock.connect({ vmId: hvsock.VmId.LOOPBACK, serviceId: server.address().serviceId, ...options });
}

const closeServer = (server) => new Promise((resolve) => server.close(resolve));

test(`accept thread + connect thread: the ${io} path's sockets on both ends`, async () => {
  let accepted;
  const server = await listen((socket) => {
    accepted = socket;
    socket.end('hello from the server');
  });
  const address = server.address();
  assert.strictEqual(address.family, 'hyperv');
  assert.match(address.serviceId, /^[0-9a-f]{8}-facb-11e6-bd58-64006a7986d3$/);
  assert.ok(address.port > 0 && address.port < 65536);
  const socket = connectTo(server);
  assertPathSocket(socket);
  assert.strictEqual(socket.connecting, true);
  await once(socket, 'connect');
  assert.strictEqual(socket.remoteVmId, hvsock.VmId.LOOPBACK);
  assert.strictEqual(socket.remoteServiceId, address.serviceId);
  assert.strictEqual(socket.remoteCid, undefined);
  assert.strictEqual(socket.remoteFamily, 'hyperv');
  assert.match(socket.localServiceId, /-facb-11e6-bd58-64006a7986d3$/);
  const reply = await readAll(socket);
  assert.strictEqual(reply.toString(), 'hello from the server');
  assertPathSocket(accepted);
  if (io === 'handle') assert.ok(accepted instanceof hvsock.VsockSocket);
  assert.strictEqual(accepted.remoteServiceId, socket.localServiceId);
  assert.strictEqual(accepted.server, server);
  await closeServer(server);
});

test('early writes are buffered until the connect completes', async () => {
  const server = await listen((socket) => socket.pipe(socket));
  const socket = connectTo(server);
  socket.end('written while connecting');
  assert.strictEqual((await readAll(socket)).toString(), 'written while connecting');
  await closeServer(server);
});

test('64 MiB checksummed echo: nothing lost, nothing reordered', { timeout: 120_000 }, async () => {
  const server = await listen((socket) => socket.pipe(socket));
  const socket = connectTo(server);
  await once(socket, 'connect');
  const total = 64 * 1024 * 1024;
  const block = randomBytes(1024 * 1024);
  const sent = createHash('sha256');
  const received = createHash('sha256');
  let count = 0;
  socket.on('data', (chunk) => {
    received.update(chunk);
    count += chunk.length;
  });
  const ended = once(socket, 'end');
  for (let offset = 0; offset < total; offset += block.length) {
    const chunk = Buffer.from(block);
    chunk.writeUInt32LE(offset, 0); // every MiB distinct: reordering changes the hash
    sent.update(chunk);
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  socket.end();
  await ended;
  assert.strictEqual(count, total);
  assert.strictEqual(received.digest('hex'), sent.digest('hex'));
  await closeServer(server);
});

test('100 connections at once: one connect waiter, one accept thread, all echo', async () => {
  const server = await listen((socket) => socket.pipe(socket));
  const replies = await Promise.all(
    Array.from({ length: 100 }, (_, i) => {
      const socket = connectTo(server);
      socket.end(`message ${i}`);
      return readAll(socket).then((reply) => reply.toString());
    }),
  );
  assert.deepStrictEqual(
    replies,
    Array.from({ length: 100 }, (_, i) => `message ${i}`),
  );
  await closeServer(server);
});

const { openHandles } = require('./fixtures/handles.js');

test('no leaks: 300 connect/echo/close cycles and 20 listen/close cycles', async (t) => {
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  const cycle = async (connections) => {
    const server = await listen((socket) => socket.pipe(socket));
    for (let i = 0; i < connections; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () => {
          const socket = connectTo(server);
          socket.end('x');
          return readAll(socket);
        }),
      );
    }
    await closeServer(server);
  };
  await cycle(50); // warm-up: lazily made handles (IOCP threads, constructors)
  await settle();
  const before = openHandles();
  await cycle(300);
  for (let i = 0; i < 20; i++) await cycle(0);
  await settle();
  const after = openHandles();
  t.diagnostic(`io=${io}: open handles ${before} -> ${after} over 620 sockets`);
  assert.ok(after - before < 20, `open handles grew from ${before} to ${after} over 620 sockets`);
});

test("net's own server policy runs on the accept thread's handles: maxConnections, pauseOnConnect", async () => {
  const accepted = [];
  const server = await listen((socket) => accepted.push(socket), { pauseOnConnect: true });
  server.maxConnections = 1;
  const first = connectTo(server);
  await once(first, 'connect');
  while (accepted.length < 1) await new Promise((resolve) => setImmediate(resolve));
  assert.strictEqual(accepted[0].isPaused(), true);
  const second = connectTo(server);
  second.on('error', () => {});
  second.resume();
  await once(second, 'close'); // net closed the over-limit connection itself
  assert.strictEqual(accepted.length, 1);
  first.destroy();
  accepted[0].destroy();
  await closeServer(server);
});

test('half-close, client ends first: the server still writes after its end', () => clientEndsFirst(listen, connectTo));

test('half-close, server ends first: the client still writes after its end', () => serverEndsFirst(listen, connectTo));

test('no listener: ECONNREFUSED from the connect waiter, with the raw WSA code', async () => {
  const server = await listen(() => {});
  const serviceId = server.address().serviceId;
  await closeServer(server);
  const socket = hvsock.connect({ vmId: hvsock.VmId.LOOPBACK, serviceId });
  const [error] = await once(socket, 'error');
  assert.strictEqual(error.code, 'ECONNREFUSED');
  assert.strictEqual(error.syscall, 'connect');
  assert.strictEqual(error.systemCode, 10061); // WSAECONNREFUSED
  assert.strictEqual(error.serviceId, serviceId);
  assert.match(error.hint, /listening on that service id/);
});

test('destroy() while connecting, and server.close() with connections open', async () => {
  const connections = [];
  const server = await listen((socket) => connections.push(socket));
  const early = connectTo(server);
  early.destroy();
  await once(early, 'close');
  const socket = connectTo(server);
  await once(socket, 'connect');
  // Wait for this socket's accepted end (the early one may come and go first).
  const mine = () => connections.some((c) => !c.destroyed && c.remoteServiceId === socket.localServiceId);
  while (!mine()) await new Promise((resolve) => setImmediate(resolve));
  let closed = false;
  server.close(() => (closed = true));
  assert.strictEqual(server.listening, false);
  const [count] = await new Promise((resolve) => server.getConnections((error, n) => resolve([n, error])));
  assert.ok(count >= 1);
  // net waits for the connections to end before 'close'.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.strictEqual(closed, false);
  socket.destroy();
  for (const c of connections) c.destroy();
  await once(server, 'close');
});

test('listen twice is ERR_SERVER_ALREADY_LISTEN; the service in use is EADDRINUSE', async () => {
  const server = await listen(() => {});
  assert.throws(() => server.listen({ serviceId: hvsock.serviceIdFromPort(0) }), { code: 'ERR_SERVER_ALREADY_LISTEN' });
  const second = hvsock.createServer();
  second.listen({ serviceId: server.address().serviceId });
  const [error] = await once(second, 'error');
  assert.strictEqual(error.code, 'EADDRINUSE');
  assert.strictEqual(error.syscall, 'listen');
  assert.strictEqual(error.systemCode, 10048); // WSAEADDRINUSE
  await closeServer(server);
});

// A listener that never accepts, its backlog full: the next connect stays
// pending (SYNs dropped), so the connect waiter is really waiting.
async function blockedTarget() {
  const path = require('node:path');
  const native = require('node-gyp-build')(path.join(__dirname, '..', '..'));
  const fd = native.win.standInInet();
  assert.ok(fd >= 0);
  assert.strictEqual(native.bind(fd, new Uint8Array(40)), 0); // 127.0.0.1, port 0
  assert.strictEqual(native.listen(fd, 0), 0);
  const out = new Uint8Array(40);
  assert.strictEqual(native.getsockname(fd, out), 0);
  const serviceId = hvsock.serviceIdFromPort(new DataView(out.buffer).getUint32(4, true));
  const fillers = [];
  for (let i = 0; i < 4; i++) {
    const filler = hvsock.connect({ vmId: hvsock.VmId.LOOPBACK, serviceId });
    filler.on('error', () => {});
    fillers.push(filler);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  const close = () => {
    for (const filler of fillers) filler.destroy();
    native.close(fd);
  };
  return { serviceId, pending: fillers.filter((f) => f.connecting).length, close };
}

test('destroy() and AbortSignal end a connect the waiter is still waiting on', async () => {
  const target = await blockedTarget();
  try {
    assert.ok(target.pending >= 1, 'at least one connect must be left pending by the full backlog');
    const socket = hvsock.connect({ vmId: hvsock.VmId.LOOPBACK, serviceId: target.serviceId });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.strictEqual(socket.connecting, true);
    socket.destroy();
    await once(socket, 'close');
    const controller = new AbortController();
    const aborted = hvsock.connect({ vmId: hvsock.VmId.LOOPBACK, serviceId: target.serviceId, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const [error] = await once(aborted, 'error');
    assert.strictEqual(error.name, 'AbortError');
    assert.strictEqual(aborted.destroyed, true);
  } finally {
    target.close();
  }
});

// This process's threads (native Toolhelp snapshot; under Wine, /proc/self
// is wineserver's, so it cannot tell).
function threadCount() {
  const path = require('node:path');
  const count = require('node-gyp-build')(path.join(__dirname, '..', '..')).win.threadCount();
  assert.ok(count > 0, `threadCount() failed: ${count}`);
  return count;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('500 pending connects: a bounded number of threads, destroy() ends every one, no handle leak', { timeout: 120_000 }, async (t) => {
  const target = await blockedTarget();
  try {
    assert.ok(target.pending >= 1, 'the full backlog must leave connects pending');
    await sleep(300);
    const threadsBefore = threadCount();
    const handlesBefore = openHandles();
    const sockets = Array.from({ length: 500 }, () => {
      const socket = hvsock.connect({ vmId: hvsock.VmId.LOOPBACK, serviceId: target.serviceId });
      socket.on('error', () => {});
      return socket;
    });
    await sleep(1000);
    const pending = sockets.filter((socket) => socket.connecting).length;
    const threadsDuring = threadCount();
    assert.strictEqual(pending, 500, 'every connect is still pending');
    // One waiter thread serves them all (it may exist already: earlier connects started it).
    assert.ok(threadsDuring - threadsBefore <= 2, `threads went from ${threadsBefore} to ${threadsDuring} with 500 pending connects`);
    for (const socket of sockets) socket.destroy();
    await Promise.all(sockets.map((socket) => (socket.closed ? undefined : once(socket, 'close'))));
    assert.ok(sockets.every((socket) => socket.destroyed && !socket.connecting));
    await sleep(300);
    const handlesAfter = openHandles();
    const threadsAfter = threadCount();
    t.diagnostic(
      `threads ${threadsBefore} -> ${threadsDuring} (500 pending) -> ${threadsAfter}; handles ${handlesBefore} -> ${handlesAfter}`,
    );
    assert.ok(handlesAfter - handlesBefore < 20, `open handles went from ${handlesBefore} to ${handlesAfter} after 500 destroyed connects`);
    assert.ok(threadsAfter - threadsBefore <= 2, `threads went from ${threadsBefore} to ${threadsAfter}`);
  } finally {
    target.close();
  }
  // The waiter still serves new connects.
  const server = await listen((socket) => socket.end('still here'));
  assert.strictEqual((await readAll(connectTo(server))).toString(), 'still here');
  await closeServer(server);
});

// Clients from a Worker (its own thread and loop): see fixtures/flood-clients.js.
function floodClients(server, options) {
  const { Worker } = require('node:worker_threads');
  const path = require('node:path');
  const shared = new Int32Array(new SharedArrayBuffer(16));
  const worker = new Worker(path.join(__dirname, 'fixtures', 'flood-clients.js'), {
    workerData: { port: server.address().port, count: 0, inFlight: 0, ...options, shared },
  });
  return { worker, shared };
}

test(
  'a flood while the JS thread is blocked: accepting pauses at a bounded queue, the backlog holds the rest, all are served',
  { timeout: 120_000 },
  async (t) => {
    const count = 600;
    const accepted = [];
    const server = await listen((socket) => accepted.push(socket));
    const { worker, shared } = floodClients(server, { count });
    try {
      // Blocks this thread: nothing is taken from the accept thread meanwhile.
      assert.strictEqual(Atomics.wait(shared, 0, 0, 60_000), 'ok');
      const held = Atomics.load(shared, 1);
      t.diagnostic(`${count} clients connected while the JS thread was blocked; accepted by the server meanwhile: ${held}`);
      // At most 128 wait for the JS thread; the kernel's backlog holds the rest.
      assert.ok(held <= 128, `${held} connections accepted into the queue while nobody took them`);
      while (accepted.length < count) await sleep(20);
      assert.strictEqual(accepted.length, count);
    } finally {
      for (const socket of accepted) socket.destroy();
      await worker.terminate();
      await closeServer(server);
    }
  },
);

test('server.close() during a sustained flood returns at once and leaks nothing', { timeout: 120_000 }, async (t) => {
  await sleep(300);
  const before = openHandles();
  const durations = [];
  for (let round = 0; round < 3; round++) {
    const server = await listen((socket) => socket.destroy());
    const { worker, shared } = floodClients(server, { inFlight: 200 });
    try {
      while (Atomics.load(shared, 3) < 300) await sleep(10);
      const started = performance.now();
      server.close();
      durations.push(performance.now() - started);
      await once(server, 'close');
    } finally {
      Atomics.store(shared, 2, 1);
      await worker.terminate();
      if (server.listening) server.close();
    }
  }
  await sleep(500);
  const after = openHandles();
  t.diagnostic(`close() took ${durations.map((ms) => ms.toFixed(1)).join(', ')} ms; handles ${before} -> ${after}`);
  assert.ok(Math.max(...durations) < 50, `close() blocked for ${Math.max(...durations).toFixed(1)} ms`);
  assert.ok(after - before < 20, `open handles went from ${before} to ${after}`);
});

// Process-level: these end their process or environment with sockets open.
function runFixture(name, flags = []) {
  const { spawnSync } = require('node:child_process');
  const path = require('node:path');
  return spawnSync(process.execPath, [...flags, path.join(__dirname, 'fixtures', name)], { encoding: 'utf8', timeout: 60_000 });
}

test('an unref()ed server and connecting socket let the process exit', () => {
  const child = runFixture('exit-unref.js');
  assert.strictEqual(child.error, undefined);
  assert.strictEqual(child.status, 0, child.stderr);
  assert.match(child.stdout, /listening/);
});

test('a Worker terminated with a listener, an accepted and a connected socket open: clean teardown', () => {
  const child = runFixture('worker-terminate.js');
  assert.strictEqual(child.error, undefined);
  assert.strictEqual(child.status, 0, child.stderr);
  assert.match(child.stdout, /terminated 5 workers/);
});

test('Workers terminated while connecting and destroying in a loop: no abort', () => {
  const child = runFixture('worker-terminate-churn.js');
  assert.strictEqual(child.error, undefined);
  assert.strictEqual(child.status, 0, child.stderr);
  assert.match(child.stdout, /terminated 20 churning workers/);
});

test('under the permission model (no process.binding): TCP handles from public objects, data flows', () => {
  const child = runFixture('permission-echo.js', [
    '--experimental-permission',
    '--allow-addons',
    '--allow-fs-read=*',
    '--allow-child-process',
  ]);
  assert.strictEqual(child.status, 0, child.stderr);
  assert.strictEqual(child.stdout.trim(), 'bindingBlocked=true reply=echo under the permission model');
});

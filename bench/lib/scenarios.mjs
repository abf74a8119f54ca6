// The five scenarios of the benchmark, written once against the transport
// shape of transports.mjs. Each returns one sample:
//   { seconds, bytes, ops, ...scenario-specific figures }.
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Listens, connects one client, resolves with both ends. */
async function connectedPair(transport) {
  let accepted;
  const gotServer = new Promise((resolve) => {
    accepted = resolve;
  });
  const endpoint = await transport.listen((socket) => accepted(socket));
  const client = await endpoint.connect();
  const server = await gotServer;
  return { endpoint, client, server };
}

async function send(socket, total, writeSize) {
  const block = Buffer.alloc(writeSize, 0x78);
  for (let left = total; left > 0;) {
    const size = Math.min(left, writeSize);
    const more = socket.write(size === writeSize ? block : block.subarray(0, size));
    left -= size;
    if (!more) await once(socket, 'drain');
  }
}

// Done by byte count, not 'end': node-vsock has no half-close.
function receive(socket, total) {
  return new Promise((resolve, reject) => {
    let got = 0;
    socket.on('data', (chunk) => {
      got += chunk.length;
      if (got >= total) resolve();
    });
    socket.once('error', reject);
    socket.once('close', () => got < total && reject(new Error(`closed after ${got} of ${total} bytes`)));
  });
}

async function teardown(endpoint, ...sockets) {
  for (const socket of sockets) socket.destroy();
  await endpoint.close();
}

/** 1. One-way bulk transfer; direction 'c2s' (client sends) or 's2c'. */
export async function bulk(transport, { bytes, writeSize, direction }) {
  const { endpoint, client, server } = await connectedPair(transport);
  const [sender, receiver] = direction === 'c2s' ? [client, server] : [server, client];
  const start = process.hrtime.bigint();
  const received = receive(receiver, bytes);
  await send(sender, bytes, writeSize);
  await received;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await teardown(endpoint, client, server);
  return { seconds, bytes, ops: 1 };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** 2. Ping-pong of `size`-byte messages: per-round-trip µs, median and p99. */
export async function rtt(transport, { rounds, size }) {
  const { endpoint, client, server } = await connectedPair(transport);
  server.on('data', (chunk) => server.write(chunk));
  const sample = await pingPong(client, rounds, size);
  await teardown(endpoint, client, server);
  return sample;
}

/** `rounds` round trips of `size` bytes from `client` (the other end echoes): the rtt sample. */
async function pingPong(client, rounds, size) {
  const message = Buffer.alloc(size, 0x70);
  const micros = new Float64Array(rounds);
  const start = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    let round = 0;
    let got = 0;
    let sentAt = process.hrtime.bigint();
    client.once('error', reject);
    client.on('data', (chunk) => {
      got += chunk.length;
      if (got < size) return;
      const now = process.hrtime.bigint();
      micros[round] = Number(now - sentAt) / 1e3;
      got -= size;
      round += 1;
      if (round === rounds) return resolve();
      sentAt = now;
      client.write(message);
    });
    client.write(message);
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  micros.sort();
  return { seconds, bytes: rounds * size * 2, ops: rounds, medianUs: quantile(micros, 0.5), p99Us: quantile(micros, 0.99) };
}

const ONE = Buffer.from('1');

// Server side of a connection cycle: one byte back, close when the client does.
function serveOneByte(socket, open) {
  open.count += 1;
  socket.once('data', () => socket.write(ONE));
  socket.on('error', () => {});
  socket.once('end', () => socket.destroy());
  socket.once('close', () => {
    open.count -= 1;
    if (open.count === 0) open.idle?.();
  });
}

async function oneCycle(endpoint) {
  const socket = await endpoint.connect();
  socket.write(ONE);
  await once(socket, 'data');
  socket.destroy();
  await once(socket, 'close');
}

async function cycles(endpoint, count, concurrency) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      await oneCycle(endpoint);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function drained(open) {
  if (open.count > 0) await new Promise((resolve) => (open.idle = resolve));
  open.idle = undefined;
}

/** 3. Connect + accept + one byte each way + close, `concurrency` at a time. */
export async function conn(transport, { count, concurrency }) {
  const open = { count: 0 };
  const endpoint = await transport.listen((socket) => serveOneByte(socket, open));
  const start = process.hrtime.bigint();
  await cycles(endpoint, count, concurrency);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await drained(open);
  await endpoint.close();
  return { seconds, bytes: count * 2, ops: count };
}

/** 4. `count` concurrent connections each sending `bytesEach` client→server. */
export async function streams(transport, { count, bytesEach, writeSize }) {
  const accepted = [];
  let wake;
  const endpoint = await transport.listen((socket) => {
    accepted.push(socket);
    wake?.();
  });
  const clients = [];
  for (let i = 0; i < count; i++) clients.push(await endpoint.connect());
  while (accepted.length < count) await new Promise((resolve) => (wake = resolve));
  const start = process.hrtime.bigint();
  await Promise.all([
    ...clients.map((socket) => send(socket, bytesEach, writeSize)),
    ...accepted.map((socket) => receive(socket, bytesEach)),
  ]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await teardown(endpoint, ...clients, ...accepted);
  return { seconds, bytes: count * bytesEach, ops: count };
}

function footprint() {
  globalThis.gc?.();
  globalThis.gc?.();
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heap: heapUsed + external, fds: readdirSync('/proc/self/fd').length };
}

/**
 * 5. RSS and open descriptors before vs after `cycles` connect/close cycles,
 * measured after `warmup` cycles (JIT, lazily made handle constructors and
 * pools are not leaks) and with a forced GC (run with --expose-gc). Also the
 * growth over the second half alone: a leak grows as much there as in the
 * first half, while a heap settling into its working size does not. And the
 * growth of what is still alive in V8's heap (plus external memory) after
 * the GC: retained sockets, listeners or buffers show there, byte for byte.
 */
export async function memory(transport, { count, warmup }) {
  const open = { count: 0 };
  const endpoint = await transport.listen((socket) => serveOneByte(socket, open));
  const settled = async () => {
    await drained(open);
    await sleep(50);
    return footprint();
  };
  await cycles(endpoint, warmup, 1);
  const before = await settled();
  const start = process.hrtime.bigint();
  await cycles(endpoint, count >> 1, 1);
  const half = await settled();
  await cycles(endpoint, count - (count >> 1), 1);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const after = await settled();
  await endpoint.close();
  return {
    seconds,
    bytes: 0,
    ops: count,
    rssGrowth: after.rss - before.rss,
    rssGrowthSecondHalf: after.rss - half.rss,
    heapGrowth: after.heap - before.heap, // live JS objects and the buffers they hold
    fdGrowth: after.fds - before.fds,
  };
}

export const scenarios = { bulk, rtt, conn, streams, memory };

// The peer-process cases: the two ends in two processes (bench/worker.mjs
// with a role), as the C, Go and Python peers run (bench/lib/peers.mjs).
// The server end resolves { port, done }; the client end is timed and
// returns the sample. Bulk ends with one byte back from the receiver, so
// the sender's clock stops when the last byte has arrived.

const ended = (socket) => Promise.race([once(socket, 'end'), once(socket, 'close')]).catch(() => {});

async function serveOne(transport, handle) {
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  const endpoint = await transport.listen(async (socket) => {
    socket.on('error', () => {});
    await handle(socket);
    await ended(socket);
    socket.destroy();
    finish();
  });
  return { port: endpoint.port, done: done.then(() => endpoint.close()).then(() => ({})) };
}

export const serverEnd = {
  bulk: (transport, { bytes }) =>
    serveOne(transport, async (socket) => {
      await receive(socket, bytes);
      socket.write(ONE);
    }),
  rtt: (transport) => serveOne(transport, (socket) => socket.on('data', (chunk) => socket.write(chunk))),
  async conn(transport, { count }) {
    const open = { count: 0 };
    let served = 0;
    let finish;
    const done = new Promise((resolve) => (finish = resolve));
    const endpoint = await transport.listen((socket) => {
      serveOneByte(socket, open);
      socket.once('close', () => ++served === count && finish());
    });
    return { port: endpoint.port, done: done.then(() => endpoint.close()).then(() => ({})) };
  },
};

// Destroyed once the sample is on its way: node-vsock's close() can block
// the event loop for good when its shutdown() failed (its reader thread
// never leaves recv()); its worker is killed after the sample anyway.
const closeLater = (socket) => setImmediate(() => socket.destroy());

async function clientSession(transport, port, run) {
  const dialer = transport.dialer(port);
  try {
    return await run(dialer);
  } finally {
    await dialer.close();
  }
}

export const clientEnd = {
  bulk: (transport, port, { bytes, writeSize }) =>
    clientSession(transport, port, async (dialer) => {
      const socket = await dialer.connect();
      const start = process.hrtime.bigint();
      const ack = once(socket, 'data');
      await send(socket, bytes, writeSize);
      await ack;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      closeLater(socket);
      return { seconds, bytes, ops: 1 };
    }),
  rtt: (transport, port, { rounds, size }) =>
    clientSession(transport, port, async (dialer) => {
      const socket = await dialer.connect();
      const sample = await pingPong(socket, rounds, size);
      closeLater(socket);
      return sample;
    }),
  conn: (transport, port, { count }) =>
    clientSession(transport, port, async (dialer) => {
      const start = process.hrtime.bigint();
      await cycles(dialer, count, 1);
      return { seconds: Number(process.hrtime.bigint() - start) / 1e9, bytes: count * 2, ops: count };
    }),
};

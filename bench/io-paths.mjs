#!/usr/bin/env node
// Compares the two I/O paths over real vsock loopback in the rig's guest:
//   node test/vm/run.mjs node bench/io-paths.mjs [--bytes 64M] [--rounds 2000] [--runs 3]
// 'handle' (fd adopted into Node's Pipe/TCP handles) against 'poll'
// (uv_poll + read/writev, a stream.Duplex), plus SOCK_SEQPACKET messages on
// the poll machinery. Prints the median of --runs runs; numbers only, no
// pass/fail. Refuses to run outside the guest: it connects AF_VSOCK sockets.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { assertInTestGuest } from './lib/guard.mjs';

assertInTestGuest('the I/O path comparison');
const require = createRequire(import.meta.url);
const hvsock = require('hvsock');
const { values } = parseArgs({
  options: {
    bytes: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
  },
});
const MiB = 1024 * 1024;
const total = Number.parseInt(values.bytes, 10) * MiB;
const rounds = Number(values.rounds);
const runs = Number(values.runs);
let nextPort = 40000 + Math.floor(Math.random() * 100_000);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

async function pair(options, onConnection) {
  const server = hvsock.createServer(options, onConnection);
  const port = ++nextPort;
  server.listen({ port });
  await once(server, 'listening');
  const client = hvsock.connect({ cid: 1, port, ...options });
  await once(client, 'connect');
  return { server, client };
}

// Client -> server bulk transfer, honouring backpressure; MiB/s.
async function throughput(io) {
  let done;
  const received = new Promise((resolve) => (done = resolve));
  const { server, client } = await pair({ io }, (socket) => {
    let bytes = 0;
    socket.on('data', (chunk) => (bytes += chunk.length));
    socket.on('end', () => done(bytes));
  });
  const chunk = Buffer.alloc(256 * 1024, 7);
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!client.write(chunk)) await once(client, 'drain');
  }
  client.end();
  const bytes = await received;
  const rate = bytes / MiB / seconds(start);
  client.destroy();
  server.close();
  if (bytes !== total) throw new Error(`lost bytes: ${bytes} of ${total}`);
  return rate;
}

// 64-byte ping-pong; µs per round trip.
async function roundTrip(io) {
  const { server, client } = await pair({ io }, (socket) => socket.on('data', (d) => socket.write(d)));
  const ping = Buffer.alloc(64, 1);
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    client.write(ping);
    let got = 0;
    while (got < 64) got += (await once(client, 'data'))[0].length;
  }
  const us = (seconds(start) * 1e6) / rounds;
  client.destroy();
  server.close();
  return us;
}

// SOCK_SEQPACKET: 64-byte message ping-pong (µs) and 16 KiB messages one way (MiB/s).
async function seqpacketRoundTrip() {
  const { server, client } = await pair({ type: 'seqpacket' }, (socket) => socket.on('message', (m) => socket.send(m)));
  const ping = Buffer.alloc(64, 1);
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    client.send(ping);
    await once(client, 'message');
  }
  const us = (seconds(start) * 1e6) / rounds;
  client.destroy();
  server.close();
  return us;
}

async function seqpacketThroughput() {
  const size = 16 * 1024;
  const count = Math.floor(total / size);
  let done;
  const received = new Promise((resolve) => (done = resolve));
  const { server, client } = await pair({ type: 'seqpacket' }, (socket) => {
    let n = 0;
    socket.on('message', () => {
      if (++n === count) done();
    });
  });
  const message = Buffer.alloc(size, 3);
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    if (!client.send(message)) await once(client, 'drain');
  }
  await received;
  const rate = (count * size) / MiB / seconds(start);
  client.destroy();
  server.close();
  return rate;
}

const cases = [
  ['throughput handle (MiB/s)', () => throughput('handle')],
  ['throughput poll   (MiB/s)', () => throughput('poll')],
  ['64 B RTT handle   (µs)', () => roundTrip('handle')],
  ['64 B RTT poll     (µs)', () => roundTrip('poll')],
  ['seqpacket 16 KiB msgs (MiB/s)', seqpacketThroughput],
  ['seqpacket 64 B RTT    (µs)', seqpacketRoundTrip],
];
console.log(`node ${process.version}, ${total / MiB} MiB transfers, ${rounds} round trips, median of ${runs}`);
for (const [name, run] of cases) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await run());
  console.log(`${name.padEnd(32)} ${median(samples).toFixed(1).padStart(9)}   runs: ${samples.map((s) => s.toFixed(1)).join(', ')}`);
}

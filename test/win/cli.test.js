// The hvsock command's Windows side, in-process over the TEST-ONLY AF_INET
// stand-in (as standin.test.js): Windows sockets have no CID (remoteCid is
// undefined), so status and result lines must name peers by VM id and
// service id. Before: ping and bench threw after a successful run
// (formatAddress of an undefined cid) and listen printed no usable address.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { once } = require('node:events');
const hvsock = require('hvsock');
const { setInetStandInForTesting } = require('../../dist/win/transport.js');
const { pingCommand } = require('../../dist/cli/ping.js');
const { benchCommand } = require('../../dist/cli/bench.js');
const { listenCommand } = require('../../dist/cli/listen.js');

setInetStandInForTesting(true);

const LOOPBACK = hvsock.VmId.LOOPBACK;
const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

async function server(onConnection) {
  const listener = hvsock.createServer({ allowHalfOpen: true }, onConnection);
  listener.listen({ serviceId: hvsock.serviceIdFromPort(0) }); // stand-in: an ephemeral port
  await once(listener, 'listening');
  return listener;
}

/**
 * Runs `run` with the command's process.stdout/stderr writes captured. The
 * commands write strings; node --test's own reports (Buffers, from this
 * child process to the runner) pass through.
 */
async function captured(run) {
  const out = { stdout: '', stderr: '' };
  const saved = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (name) =>
    function (chunk, ...rest) {
      if (typeof chunk !== 'string') return saved[name].call(this, chunk, ...rest);
      out[name] += chunk;
      return true;
    };
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  try {
    out.result = await run(out);
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
  }
  return out;
}

test('ping names the peer by VM id and service id and exits 0 (remoteCid is undefined here)', async () => {
  const echo = await server((socket) => socket.pipe(socket));
  const { serviceId } = echo.address();
  const out = await captured(() => pingCommand.run({ count: '3' }, [`hvsock://loopback/${serviceId}`]));
  assert.strictEqual(out.result, 0);
  assert.match(out.stdout, new RegExp(`^ping hvsock://${LOOPBACK}/${serviceId}: 3 × 64 bytes, round trip min`));
  echo.close();
});

test('bench names the peer by VM id and service id and exits 0', async () => {
  const sink = await server((socket) => {
    let received = 0;
    socket.on('data', (chunk) => (received += chunk.length));
    socket.on('end', () => socket.end(`${received}\n`));
  });
  const { serviceId } = sink.address();
  const out = await captured(() => benchCommand.run({ bytes: '1M' }, [`hvsock://loopback/${serviceId}`]));
  assert.strictEqual(out.result, 0);
  assert.match(out.stdout, new RegExp(`^bench hvsock://${LOOPBACK}/${serviceId}: 1048576 bytes in`));
  sink.close();
});

test('listen -k prints a Hyper-V address to connect to and each peer as hvsock://VMID/SERVICEID', async () => {
  const out = await captured(async (seen) => {
    const run = listenCommand.run({ 'keep-open': true }, [`hvsock://wildcard/${hvsock.serviceIdFromPort(0)}`]);
    for (let i = 0; i < 100 && !/listening on/.test(seen.stderr); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const serviceId = new RegExp(`listening on hvsock://${GUID}/(${GUID})`).exec(seen.stderr)?.[1];
    assert.ok(serviceId, seen.stderr);
    const socket = hvsock.connect({ vmId: LOOPBACK, serviceId });
    await once(socket, 'connect');
    for (let i = 0; i < 100 && !/connection from/.test(seen.stderr); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    process.emit('SIGINT');
    return run;
  });
  assert.strictEqual(out.result, 0);
  assert.match(out.stderr, new RegExp(`connection from hvsock://${GUID}/${GUID}\\n`));
  assert.doesNotMatch(out.stderr, /(^|[^h])vsock:\/\/|undefined/);
});

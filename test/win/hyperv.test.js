// The real AF_HYPERV paths under Wine. Wine has no Hyper-V: socket(34, ...)
// fails with WSAEAFNOSUPPORT, so connect()/listen() must report a typed
// EAFNOSUPPORT error with the raw code and the hint. Plus the Windows-side
// address and option validation (synchronous, typed).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { once } = require('node:events');
const { getSystemErrorName } = require('node:util');
const hvsock = require('hvsock');
const { assertPathSocket } = require('./fixtures/io.js');

const SERVICE = hvsock.serviceIdFromPort(5000);
const WSAEAFNOSUPPORT = 10047;

function assertNoHyperV(error, syscall, vmId) {
  assert.strictEqual(error.code, 'EAFNOSUPPORT');
  assert.strictEqual(getSystemErrorName(error.errno), 'EAFNOSUPPORT');
  assert.strictEqual(error.syscall, syscall);
  assert.strictEqual(error.systemCode, WSAEAFNOSUPPORT);
  assert.strictEqual(error.vmId, vmId);
  assert.strictEqual(error.serviceId, SERVICE);
  assert.strictEqual(error.address, `hvsock://${vmId}/${SERVICE}`);
  assert.match(error.hint, /is Hyper-V enabled\?/);
  assert.ok(error.message.startsWith(`${syscall} EAFNOSUPPORT hvsock://${vmId}/${SERVICE}`), error.message);
}

test('connect({ vmId, serviceId }) reports EAFNOSUPPORT asynchronously, once', async () => {
  const socket = hvsock.connect({ vmId: hvsock.VmId.PARENT, serviceId: SERVICE });
  assertPathSocket(socket);
  let errors = 0;
  socket.on('error', () => errors++);
  socket.write('queued before the failure'); // must not become ERR_SOCKET_CLOSED
  const closed = new Promise((resolve) => socket.once('close', resolve)); // once() would reject on 'error'
  const [error] = await once(socket, 'error');
  await closed;
  assertNoHyperV(error, 'socket', hvsock.VmId.PARENT);
  assert.strictEqual(errors, 1);
});

test('createServer().listen({ serviceId }) emits EAFNOSUPPORT', async () => {
  const server = hvsock.createServer();
  server.listen({ serviceId: SERVICE });
  const [error] = await once(server, 'error');
  assertNoHyperV(error, 'socket', hvsock.VmId.WILDCARD);
  assert.strictEqual(server.listening, false);
  assert.strictEqual(server.address(), null);
});

test('hvsock:// URIs take the same path', async () => {
  const socket = hvsock.connect(`hvsock://loopback/${SERVICE}`);
  const [error] = await once(socket, 'error');
  assertNoHyperV(error, 'socket', hvsock.VmId.LOOPBACK);
});

test('{ cid, port } is Linux-only: a clear typed error, thrown before any socket exists', () => {
  const unsupported = { code: 'ERR_HVSOCK_UNSUPPORTED_ADDRESS', message: /Linux AF_VSOCK only.*vmId, serviceId/ };
  assert.throws(() => hvsock.connect({ cid: 2, port: 5000 }), unsupported);
  assert.throws(() => hvsock.connect('vsock://2:5000'), unsupported);
  assert.throws(() => hvsock.createServer().listen({ port: 5000 }), unsupported);
  assert.throws(() => hvsock.createServer().listen(5000), unsupported);
});

test('Hyper-V addresses are validated', () => {
  assert.throws(() => hvsock.connect({ serviceId: SERVICE }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.vmId/ });
  assert.throws(() => hvsock.connect({ vmId: 'parent', serviceId: SERVICE }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => hvsock.createServer().listen({}), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.serviceId/ });
});

test('Windows options: typed, range-checked, Linux-only ones refused', () => {
  const target = { vmId: hvsock.VmId.PARENT, serviceId: SERVICE };
  assert.throws(() => hvsock.connect({ ...target, connectTimeout: 300_001 }), { code: 'ERR_OUT_OF_RANGE', message: /<= 300000/ });
  assert.throws(() => hvsock.connect({ ...target, connectTimeout: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => hvsock.connect({ ...target, connectTimeout: '5' }), { code: 'ERR_INVALID_ARG_TYPE' });
  for (const option of ['connectedSuspend', 'containerPassthru', 'highVtl']) {
    assert.throws(() => hvsock.connect({ ...target, [option]: 1 }), { code: 'ERR_INVALID_ARG_TYPE', message: new RegExp(option) });
    assert.throws(() => hvsock.createServer({ [option]: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  assert.throws(() => hvsock.connect({ ...target, bufferSize: 65536 }), {
    code: 'ERR_HVSOCK_UNSUPPORTED_PLATFORM',
    message: /bufferSize is a Linux/,
  });
  assert.throws(() => hvsock.createServer({ bufferSize: 65536 }), { code: 'ERR_HVSOCK_UNSUPPORTED_PLATFORM' });
});

test('valid Windows options pass validation and reach the socket step', async () => {
  const socket = hvsock.connect({
    vmId: hvsock.VmId.PARENT,
    serviceId: SERVICE,
    connectTimeout: 300_000,
    connectedSuspend: true,
    containerPassthru: false,
    highVtl: false,
  });
  const [error] = await once(socket, 'error');
  assert.strictEqual(error.code, 'EAFNOSUPPORT'); // the first thing Wine cannot do
});

test('the echo examples report the missing Hyper-V clearly and exit 1', () => {
  const { spawnSync } = require('node:child_process');
  const path = require('node:path');
  const example = (name, ...args) =>
    spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'examples', name), ...args], { encoding: 'utf8' });
  const server = example('echo-server.js', '--vm-id', hvsock.VmId.CHILDREN, '--service-id', SERVICE);
  assert.strictEqual(server.status, 1);
  assert.match(server.stderr, /^echo-server: socket EAFNOSUPPORT hvsock:\/\/90db8b89-.*is Hyper-V enabled\?/);
  const client = example('echo-client.js', '--vm-id', hvsock.VmId.PARENT, '--service-id', SERVICE);
  assert.strictEqual(client.status, 1);
  assert.match(client.stderr, /^echo-client: socket EAFNOSUPPORT hvsock:\/\/a42e7cda-.*is Hyper-V enabled\?/);
});

test('getLocalCid() says Windows has no CIDs', () => {
  assert.throws(() => hvsock.getLocalCid(), { code: 'ERR_HVSOCK_UNSUPPORTED_PLATFORM', message: /no vsock CIDs/ });
});

test("the real AF_HYPERV mode (HVSOCK_WIN_REAL=1) fails loudly under Wine: 'AF_HYPERV is unavailable', never a pass", () => {
  const { spawnSync } = require('node:child_process');
  const path = require('node:path');
  const child = spawnSync(process.execPath, ['--test', '--test-reporter=spec', path.join(__dirname, 'real.test.js')], {
    encoding: 'utf8',
    // Without NODE_TEST_CONTEXT: else the inner runner reports to this one
    // and exits 0 whatever its tests did.
    env: { ...process.env, HVSOCK_WIN_REAL: '1', NODE_TEST_CONTEXT: undefined },
    timeout: 60_000,
  });
  assert.strictEqual(child.error, undefined);
  assert.notStrictEqual(child.status, 0, 'the real mode must not pass without AF_HYPERV');
  assert.match(
    child.stdout + child.stderr,
    /AF_HYPERV is unavailable here: socket\(AF_HYPERV\) failed with EAFNOSUPPORT \(Windows error 10047\)/,
  );
  assert.doesNotMatch(child.stdout, /^ℹ pass [1-9]/m);
});

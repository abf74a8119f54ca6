// Hyper-V service registration against Wine's registry (HKLM is writable
// there, as for an elevated Windows process): the advapi32 calls, the
// policy in lib/win/registry.ts and the CLI on top, round trip.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const hvsock = require('hvsock');

const listed = (serviceId) => hvsock.listServices().find((entry) => entry.serviceId === serviceId);

test('register -> list shows it -> unregister -> gone', () => {
  const serviceId = randomUUID();
  assert.strictEqual(listed(serviceId), undefined);
  hvsock.registerService(`{${serviceId.toUpperCase()}}`, 'hvsock test service ✓'); // any GUID spelling
  assert.deepStrictEqual(listed(serviceId), { serviceId, name: 'hvsock test service ✓' });
  hvsock.registerService(serviceId, 'renamed'); // registering again updates the name
  assert.strictEqual(listed(serviceId).name, 'renamed');
  hvsock.unregisterService(serviceId);
  assert.strictEqual(listed(serviceId), undefined);
});

test('unregistering an unknown service is a typed ENOENT', () => {
  const serviceId = randomUUID();
  assert.throws(
    () => hvsock.unregisterService(serviceId),
    (error) => {
      assert.strictEqual(error.code, 'ENOENT');
      assert.strictEqual(error.syscall, 'RegDeleteKeyW');
      assert.strictEqual(error.serviceId, serviceId);
      assert.strictEqual(error.systemCode, 2); // ERROR_FILE_NOT_FOUND
      assert.ok(error.address.endsWith(`GuestCommunicationServices\\${serviceId}`));
      return true;
    },
  );
});

test('arguments are validated before the registry is touched', () => {
  assert.throws(() => hvsock.registerService('not-a-guid', 'x'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => hvsock.registerService(randomUUID(), ''), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => hvsock.registerService(randomUUID(), 'a\0b'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => hvsock.registerService(randomUUID(), 42), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => hvsock.unregisterService(undefined), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('CLI: hvsock services register / list / unregister', () => {
  const cli = (...args) =>
    spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'cli.js'), 'services', ...args], { encoding: 'utf8' });
  const serviceId = hvsock.serviceIdFromPort(40_123);
  const registered = cli('register', '40123', 'cli test');
  assert.strictEqual(registered.status, 0, registered.stderr);
  assert.match(cli('list').stdout, new RegExp(`^${serviceId}\tcli test$`, 'm'));
  assert.strictEqual(cli('unregister', serviceId).status, 0);
  assert.doesNotMatch(cli('list').stdout, new RegExp(serviceId));
  const missing = cli('unregister', serviceId);
  assert.strictEqual(missing.status, 1);
  assert.match(missing.stderr, /^hvsock: services: RegDeleteKeyW ENOENT/);
  assert.strictEqual(cli('register', serviceId).status, 2);
});

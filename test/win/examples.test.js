// examples/windows/host-service.js as a user runs it, in its own node.exe
// (over the AF_INET stand-in via a -r preload: Wine has no Hyper-V), with
// Wine's registry for the service registration (HKLM is writable there, as
// for an elevated process).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { spawn } = require('node:child_process');
const hvsock = require('hvsock');
const { setInetStandInForTesting } = require('../../dist/win/transport.js');

setInetStandInForTesting(true);

const preload = path.join(__dirname, 'fixtures', 'standin-preload.js');
const example = path.join(__dirname, '..', '..', 'examples', 'windows', 'host-service.js');

/** Starts the host service; resolves its child and stdout once it listens. */
function startService(args) {
  const child = spawn(process.execPath, ['-r', preload, example, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const listening = /listening on hvsock:\/\/([0-9a-f-]+)\/([0-9a-f-]+)/.exec(stdout);
      if (listening) resolve({ child, stdout, vmId: listening[1], serviceId: listening[2], stderr: () => stderr });
    });
    child.on('close', (code) => reject(new Error(`host-service exited ${code}: ${stdout}${stderr}`)));
  });
}

function request(serviceId, text) {
  const socket = hvsock.connect({ vmId: hvsock.VmId.LOOPBACK, serviceId });
  socket.end(text);
  const chunks = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  return new Promise((resolve, reject) => socket.on('end', () => resolve(Buffer.concat(chunks).toString())).on('error', reject));
}

test('host-service.js registers its service id once, listens on WILDCARD and answers lines', async (t) => {
  const serviceId = hvsock.serviceIdFromPort(0); // port 0: an ephemeral stand-in port
  t.after(() => hvsock.listServices().some((entry) => entry.serviceId === serviceId) && hvsock.unregisterService(serviceId));
  const first = await startService(['0']);
  assert.match(first.stdout, new RegExp(`registered service id ${serviceId}`));
  // The AF_INET stand-in binds 127.0.0.1, which its address decoding reports
  // as LOOPBACK; on Hyper-V the listener reports WILDCARD.
  assert.ok([hvsock.VmId.WILDCARD, hvsock.VmId.LOOPBACK].includes(first.vmId), first.vmId);
  assert.strictEqual(await request(first.serviceId, 'ping\nhello\n'), 'pong\nhello\n');
  first.child.kill();
  assert.strictEqual(first.stderr(), '');
  // Already registered: the second run leaves the registry alone.
  const second = await startService(['0']);
  assert.doesNotMatch(second.stdout, /registered/);
  second.child.kill();
});

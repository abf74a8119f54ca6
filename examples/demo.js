#!/usr/bin/env node
// The first thing to run: starts the echo server, then the echo client over
// vsock loopback (CID 1) twice — once by { cid, port }, once by Hyper-V style
// { vmId, serviceId } — and prints the exchange. `npm run demo` runs it inside
// the project's test VM, where vsock_loopback is loaded.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const hvsock = require('hvsock');

const port = 5000;
const here = __dirname;

function run(script, args, onLine) {
  const child = spawn(process.execPath, [path.join(here, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let pending = '';
  child.stdout.on('data', (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      console.log(line);
      onLine?.(line);
    }
  });
  return child;
}

function exited(child) {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
}

async function main() {
  let ready;
  const listening = new Promise((resolve) => (ready = resolve));
  const server = run('echo-server.js', ['--port', String(port)], (line) => line.includes('listening') && ready());
  const serverExit = exited(server);
  await Promise.race([listening, serverExit.then((code) => Promise.reject(new Error(`echo server exited: ${code}`)))]);

  const byNumbers = await exited(run('echo-client.js', ['--cid', '1', '--port', String(port), '--message', 'hello by cid/port']));
  const byGuids = await exited(
    run('echo-client.js', [
      '--vm-id',
      hvsock.VmId.LOOPBACK,
      '--service-id',
      hvsock.serviceIdFromPort(port),
      '--message',
      'hello by vmId/serviceId',
    ]),
  );
  server.kill('SIGTERM');
  await serverExit;
  const ok = byNumbers === 0 && byGuids === 0;
  console.log(ok ? 'demo: OK — both exchanges echoed intact' : 'demo: FAILED');
  process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
  console.error(`demo: ${error.message}`);
  process.exitCode = 1;
});

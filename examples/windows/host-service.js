#!/usr/bin/env node
// A Windows host service for the VMs on this machine (Hyper-V sockets,
// AF_HYPERV): answers newline-delimited lines from guests. "ping" -> "pong",
// "time" -> the host's ISO time, anything else is echoed back.
//   node host-service.js [PORT] [VMID] [--no-register]
//     PORT: vsock port 5000 by default = service id 00001388-facb-11e6-bd58-64006a7986d3
//     VMID: whom to accept: WILDCARD (default: every VM, not WSL2), CHILDREN,
//       or one VM's id: (Get-VM NAME).Id in PowerShell.
//     WSL2 never connects to a wildcard listener: pass the WSL VM id, which
//       changes at every WSL boot: inside WSL `wslinfo --vm-id` (or
//       node -e "require('hvsock').getWslVmId().then(console.log)"), or on
//       Windows, elevated, `hcsdiag list` (the entry owned by WSL).
//
// Hyper-V accepts connections only for registered service ids. The first run
// registers it (needs an elevated prompt, once; or run
// `npx hvsock services register 5000 "hvsock example"` as administrator);
// later runs find it in the registry and need no elevation. --no-register
// skips that step.
// The guest side (a Linux VM with hv_sock, or WSL2; npm install hvsock there):
//   npx hvsock connect vsock://2:5000           and type lines, or
//   node reconnecting-agent.js 2 5000            (examples/), which survives restarts of this service
'use strict';
const readline = require('node:readline');
const hvsock = require('hvsock');

const args = process.argv.slice(2).filter((arg) => arg !== '--no-register');
const register = !process.argv.includes('--no-register');
const port = Number(args[0] ?? 5000);
const vmId = args[1] ?? hvsock.VmId.WILDCARD;
const serviceId = hvsock.serviceIdFromPort(port);

function ensureRegistered() {
  if (hvsock.listServices().some((service) => service.serviceId === serviceId)) return;
  try {
    hvsock.registerService(serviceId, `hvsock example host service (port ${port})`);
    console.log(`host-service: registered service id ${serviceId}`);
  } catch (error) {
    // EACCES with the hint "run elevated": the message says what to do.
    console.error(`host-service: cannot register ${serviceId}: ${error.message}`);
    process.exit(1);
  }
}

function answer(line) {
  if (line === 'ping') return 'pong';
  if (line === 'time') return new Date().toISOString();
  return line;
}

if (register) ensureRegistered();
const server = hvsock.createServer((socket) => {
  const peer = `${socket.remoteVmId ?? socket.remoteAddress}`;
  console.log(`host-service: connection from VM ${peer}`);
  socket.on('error', (error) => console.error(`host-service: ${error.message}`));
  const lines = readline.createInterface({ input: socket, crlfDelay: Infinity });
  lines.on('line', (line) => socket.write(answer(line.trim()) + '\n'));
  lines.on('close', () => socket.end());
});
server.on('error', (error) => {
  console.error(`host-service: ${error.message}`);
  process.exitCode = 1;
});
server.listen({ vmId, serviceId }, () => {
  const address = server.address();
  console.log(`host-service: listening on hvsock://${address.vmId}/${address.serviceId}`);
  // A wildcard listener never hears from WSL2: say so when WSL2 is running.
  hvsock.warnIfWslMissesWildcard(vmId).catch(() => undefined);
});
const stop = () => server.close();
process.on('SIGTERM', stop).on('SIGINT', stop);

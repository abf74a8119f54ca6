#!/usr/bin/env node
// The host side of guest-agent.js: sends newline-delimited JSON requests
// and prints each response (matched by id).
//   node host-client.js CID PORT METHOD [METHOD...]
//     Linux/KVM host: CID is the guest's (QEMU guest-cid=N); 1 is loopback
//   node host-client.js hvsock://VMID/PORT METHOD [METHOD...]
//     Windows host: VMID from (Get-VM NAME).Id, or the WSL2 VM id
//     (hvsock.getWslVmId()); PORT maps to service id PORT-facb-11e6-...
// Methods: ping, uptime, hostname, echo.
'use strict';
const readline = require('node:readline');
const hvsock = require('hvsock');

const args = process.argv.slice(2);
const address = args[0]?.includes('://') ? args.shift() : { cid: Number(args.shift()), port: Number(args.shift()) };
const methods = args.length > 0 ? args : ['ping'];

const socket = hvsock.connect(address);
const pending = new Map();
socket.on('connect', () => {
  methods.forEach((method, id) => {
    pending.set(id, method);
    socket.write(JSON.stringify({ id, method, params: method === 'echo' ? { hello: 'guest' } : undefined }) + '\n');
  });
});
readline.createInterface({ input: socket, crlfDelay: Infinity }).on('line', (line) => {
  const response = JSON.parse(line);
  const method = pending.get(response.id);
  pending.delete(response.id);
  console.log(`${method}: ${JSON.stringify(response.error ?? response.result)}`);
  if (response.error) process.exitCode = 1;
  if (pending.size === 0) socket.end();
});
socket.on('error', (error) => {
  console.error(`host-client: ${error.message}`);
  process.exitCode = 1;
});

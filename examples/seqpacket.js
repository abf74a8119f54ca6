#!/usr/bin/env node
// SOCK_SEQPACKET message sockets (Linux >= 5.16): every send() arrives as one
// 'message' of the same length. Starts a message echo server on vsock
// loopback (CID 1), sends three messages and prints what comes back.
//   node node_modules/hvsock/examples/seqpacket.js [PORT]   (in a VM with vsock_loopback)
//   node test/vm/run.mjs node examples/seqpacket.js        (in this repository: the test VM)
'use strict';
const hvsock = require('hvsock');

// Connects AF_VSOCK to CID 1 (needs vsock_loopback). Run from an installed
// package it runs anywhere you run it; run from a checkout of this repository
// (its test/ folder is there) only inside the test VM, because the machines
// hvsock is developed on must never make vsock connections outside it.
const inCheckout = require('node:fs').existsSync(require('node:path').join(__dirname, '..', 'test', 'vm'));
const inTestGuest = require('node:fs').readFileSync('/proc/cmdline', 'utf8').split(/\s+/).includes('hvsock.testguest=1');
if (inCheckout && !inTestGuest) {
  console.error('run me inside the test VM: node test/vm/run.mjs node examples/seqpacket.js');
  process.exit(2);
}

const port = Number(process.argv[2]) || 5001;
const server = hvsock.createServer({ type: 'seqpacket' }, (socket) => {
  socket.on('message', (message) => socket.send(message)); // echo each message whole
});

server.listen({ port }, () => {
  const client = hvsock.connect({ cid: hvsock.Cid.LOCAL, port, type: 'seqpacket' });
  const messages = ['hello', 'x'.repeat(40000), 'bye'];
  let left = messages.length;
  client.on('connect', () => {
    for (const message of messages) client.send(message);
  });
  client.on('message', (message) => {
    const text = message.length > 20 ? `${message.length} bytes` : JSON.stringify(message.toString());
    console.log(`message: ${text}`);
    if (--left === 0) {
      client.end();
      server.close();
    }
  });
  client.on('error', (error) => {
    console.error(error.message);
    process.exitCode = 1;
    server.close();
  });
});

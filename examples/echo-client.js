#!/usr/bin/env node
// Echo client: sends a message, prints what comes back, checks it matches.
//   node examples/echo-client.js --vm-id a42e7cda-d03f-480c-9cc2-a4de20abb878 \
//        --service-id 00001388-facb-11e6-bd58-64006a7986d3     (guest -> host)
//   node examples/echo-client.js --cid 1 --port 5000 --message hi  (Linux loopback)
'use strict';
const hvsock = require('hvsock');
const { parseAddressArgs } = require('./address-args');

function main() {
  const { address, message = 'hello over hvsock', help } = parseAddressArgs(process.argv.slice(2));
  if (help) {
    console.log('usage: echo-client.js (--vm-id GUID | --cid N) (--service-id GUID | --port N) [--message TEXT]');
    return;
  }
  const started = process.hrtime.bigint();
  const socket = hvsock.connect(address, () => {
    const peer = { cid: socket.remoteCid, port: socket.remotePort, vmId: socket.remoteVmId, serviceId: socket.remoteServiceId };
    console.log(`echo-client: connected to ${hvsock.formatAddress(peer)}`);
    socket.end(message);
  });
  const chunks = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  socket.on('end', () => {
    const reply = Buffer.concat(chunks).toString();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`echo-client: sent ${JSON.stringify(message)}, got back ${JSON.stringify(reply)} in ${ms.toFixed(1)} ms`);
    if (reply !== message) {
      console.error('echo-client: reply differs from what was sent');
      process.exitCode = 1;
    }
  });
  socket.on('error', (error) => {
    console.error(`echo-client: ${error.message}`);
    process.exitCode = 1;
  });
}

main();

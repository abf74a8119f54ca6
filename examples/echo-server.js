#!/usr/bin/env node
// Echo server: every byte a client sends comes back.
//   node examples/echo-server.js --service-id 00001388-facb-11e6-bd58-64006a7986d3
//   node examples/echo-server.js --port 5000            (Linux, any CID)
//   node examples/echo-server.js --vm-id 90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd \
//        --service-id 00001388-facb-11e6-bd58-64006a7986d3   (Windows host: from its VMs)
'use strict';
const hvsock = require('hvsock');
const { parseAddressArgs } = require('./address-args');

function main() {
  const { address, help } = parseAddressArgs(process.argv.slice(2));
  if (help) {
    console.log('usage: echo-server.js [--vm-id GUID] (--service-id GUID | --port N) [--cid N]');
    return;
  }
  const server = hvsock.createServer((socket) => {
    // vsock://CID:PORT on Linux, hvsock://VMID/SERVICEID on Windows.
    const peer = hvsock.formatAddress({
      cid: socket.remoteCid,
      port: socket.remotePort,
      vmId: socket.remoteVmId,
      serviceId: socket.remoteServiceId,
    });
    console.log(`echo-server: connection from ${peer}`);
    socket.on('error', (error) => console.error(`echo-server: ${peer}: ${error.message}`));
    socket.on('close', () => console.log(`echo-server: ${peer} closed`));
    socket.pipe(socket);
  });
  server.on('error', (error) => {
    console.error(`echo-server: ${error.message}`);
    process.exitCode = 1;
  });
  server.listen(address, () => {
    const { serviceId } = server.address();
    console.log(`echo-server: listening on ${hvsock.formatAddress(server.address())} (service id ${serviceId})`);
  });
  const stop = () => server.close();
  process.on('SIGTERM', stop).on('SIGINT', stop);
}

main();

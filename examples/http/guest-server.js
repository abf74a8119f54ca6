#!/usr/bin/env node
// HTTP over vsock, the guest side: Node's own http.Server listening on a
// vsock port (hvsock.listenOn plugs the address into any net.Server).
//   GET /hello  -> "hello from <hostname>"
//   GET /status -> {"hostname":...,"uptime":...,"peer":{"cid":...,"port":...}}
//
// On a real VM (Linux guest with vsock: QEMU vhost-vsock-pci, Hyper-V
// hv_sock, Firecracker; npm install hvsock in the guest):
//   node guest-server.js 8080              listens on vsock://any:8080
// then on the host (npm install hvsock undici):
//   node host-fetch.js CID 8080 /status    (CID: the guest's, e.g. QEMU guest-cid=3)
//   node host-fetch.js hvsock://VMID/8080 /status   (Windows host: VMID from (Get-VM NAME).Id)
'use strict';
const http = require('node:http');
const os = require('node:os');
const hvsock = require('hvsock');

const port = Number(process.argv[2] ?? 8080);

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/hello') {
    res.end(`hello from ${os.hostname()}\n`);
  } else if (req.method === 'GET' && req.url === '/status') {
    // req.socket is a vsock socket: it has the vsock getters.
    const peer = { cid: req.socket.remoteCid, port: req.socket.remotePort };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ hostname: os.hostname(), uptime: os.uptime(), peer }) + '\n');
  } else {
    res.statusCode = 404;
    res.end(`no ${req.method} ${req.url} here\n`);
  }
});
server.on('error', (error) => {
  console.error(`guest-server: ${error.message}`);
  process.exitCode = 1;
});
hvsock.listenOn(server, `vsock://any:${port}`, () => console.log(`guest-server: listening on vsock port ${server.address().port}`));
// closeAllConnections(): keep-alive connections would hold close() open.
const stop = () => server.close().closeAllConnections();
process.on('SIGTERM', stop).on('SIGINT', stop);

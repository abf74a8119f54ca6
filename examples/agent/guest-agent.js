#!/usr/bin/env node
// A guest agent: runs inside a VM, answers newline-delimited JSON requests
// from the host on a vsock port. One request per line, one response per
// line, in order: {"id":1,"method":"uptime"} -> {"id":1,"result":1234.5}.
//
// On a real VM (Linux guest with vsock: QEMU vhost-vsock-pci, Hyper-V
// hv_sock, Firecracker; npm install hvsock in the guest):
//   node guest-agent.js 5000              listens on vsock://any:5000
// then on the host: node host-client.js CID 5000 uptime
//   (CID: the guest's, e.g. QEMU -device vhost-vsock-pci,guest-cid=3;
//    a Windows host uses hvsock://<VM id>/5000 instead: see host-client.js)
'use strict';
const os = require('node:os');
const readline = require('node:readline');
const hvsock = require('hvsock');

const port = Number(process.argv[2] ?? 5000);

const METHODS = {
  ping: () => 'pong',
  uptime: () => os.uptime(),
  hostname: () => os.hostname(),
  echo: (params) => params,
};

function answer(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    return { id: null, error: 'not JSON' };
  }
  const method = METHODS[request?.method];
  if (!method) return { id: request?.id ?? null, error: `unknown method ${JSON.stringify(request?.method)}` };
  return { id: request.id, result: method(request.params) };
}

const server = hvsock.createServer((socket) => {
  socket.on('error', (error) => console.error(`guest-agent: ${error.message}`));
  // readline splits the byte stream into lines however it was chunked.
  const lines = readline.createInterface({ input: socket, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() !== '') socket.write(JSON.stringify(answer(line)) + '\n');
  });
  lines.on('close', () => socket.end());
});
server.on('error', (error) => {
  console.error(`guest-agent: ${error.message}`);
  process.exitCode = 1;
});
server.listen({ port }, () => console.log(`guest-agent: listening on vsock port ${server.address().port}`));
const stop = () => server.close();
process.on('SIGTERM', stop).on('SIGINT', stop);

#!/usr/bin/env node
// Host side of a Firecracker / Cloud Hypervisor microVM (hybrid vsock): the
// VMM's Unix socket stands in for the guest's CID. Talks to a guest agent on
// vsock port PORT and serves guest-initiated connections on port PORT+1
// (the VMM connects to UDS_PATH_<PORT+1>) for one exchange, then exits.
//   node examples/firecracker-host.js /run/firecracker/v.sock 5000
'use strict';
const hvsock = require('hvsock');

const [udsPath, portText = '5000'] = process.argv.slice(2);
if (!udsPath) {
  console.log('usage: firecracker-host.js UDS_PATH [PORT]');
  process.exit(2);
}
const port = Number(portText);

// Guest → host: the guest connects to CID 2 port PORT+1.
const server = hvsock.createServer((socket) => {
  socket.end('hello guest, from the host\n');
  server.close();
});
server.listen({ udsPath, port: port + 1 }, () => console.log(`firecracker-host: serving ${server.address().path}`));

// Host → guest: retries while the guest agent boots (the VMM closes without OK meanwhile).
const socket = hvsock.connect({ udsPath, port, retry: { attempts: 50, maxDelay: 1000 } });
socket.on('retry', ({ attempt, error }) => console.log(`firecracker-host: attempt ${attempt}: ${error.code}, retrying`));
socket.write('ping\n'); // held until the VMM answered OK
socket.on('connect', () => console.log(`firecracker-host: connected (${socket.handshakeReply}) to guest port ${socket.remotePort}`));
socket.once('data', (data) => {
  console.log(`firecracker-host: guest answered ${JSON.stringify(String(data))}`);
  socket.destroy(); // not end(): Firecracker closes both directions on EOF anyway
});
socket.on('error', (error) => {
  console.error(`firecracker-host: ${error.message}`);
  process.exitCode = 1;
  server.close();
});

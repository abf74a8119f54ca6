#!/usr/bin/env node
// A socket-activated guest agent: serves on the vsock listener systemd
// hands it (hvsock.listenSystemd(): LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES,
// fds from 3). One line in, one line out: "ping" -> "pong", "uptime" -> the
// guest's uptime in seconds, anything else is echoed back.
//
// Install: see hvsock-agent.socket (systemctl enable --now hvsock-agent.socket).
// Then from the host: npx hvsock connect vsock://CID:5000 and type lines
// (the package's CLI; CID: the guest's, e.g. QEMU guest-cid=3).
//
// Not socket-activated (started by hand, or LISTEN_PID is another process):
// it prints "agent: not socket-activated" and exits with status 1. It
// deliberately does not fall back to binding the port itself, which would
// fight systemd for it. (A parent that binds and listens on the port and
// execs node with LISTEN_PID=<node's pid> LISTEN_FDS=1 LISTEN_FDNAMES=control
// and the listener as fd 3 does what systemd does: that is how the tests
// run it.)
'use strict';
const os = require('node:os');
const readline = require('node:readline');
const hvsock = require('hvsock');

function answer(line) {
  if (line === 'ping') return 'pong';
  if (line === 'uptime') return String(os.uptime());
  return line;
}

function serve(socket) {
  socket.on('error', (error) => console.error(`agent: ${error.message}`));
  const lines = readline.createInterface({ input: socket, crlfDelay: Infinity });
  lines.on('line', (line) => socket.write(answer(line.trim()) + '\n'));
  lines.on('close', () => socket.end());
}

// Every vsock listener systemd passed (non-vsock fds are left alone); ours
// is named by FileDescriptorName=control in the .socket unit.
const servers = hvsock.listenSystemd({}, serve);
const control = servers.find(({ name }) => name === 'control') ?? servers[0];
if (!control) {
  console.error('agent: not socket-activated (no LISTEN_FDS for this process): systemctl start hvsock-agent.socket');
  process.exit(1);
}
for (const { server } of servers) server.on('error', (error) => console.error(`agent: ${error.message}`));
control.server.once('listening', () =>
  console.log(`agent: serving fd ${control.fd} (${control.name}) on vsock port ${control.server.address().port}`),
);
const stop = () => servers.forEach(({ server }) => server.close());
process.on('SIGTERM', stop).on('SIGINT', stop);

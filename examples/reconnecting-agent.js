#!/usr/bin/env node
// A guest agent that keeps a connection to a host service open across the
// host service restarting (or the guest/host rebooting): on every new
// connection it says hello (one line), then prints each line the host sends.
// Retries forever with backoff (hvsock.createReconnectingClient); Ctrl-C stops.
//
// On a real VM (Linux guest; npm install hvsock in the guest):
//   node reconnecting-agent.js 2 5000      connects to the host (CID 2), port 5000
// and on the host, any line service on vsock port 5000, e.g.
//   node examples/echo-server.js --port 5000      (Linux host)
//   node examples/windows/host-service.js 5000    (Windows host)
// Stop and restart the host service: the agent logs 'disconnect', its
// retries, then 'connect' and a fresh hello.
'use strict';
const os = require('node:os');
const readline = require('node:readline');
const hvsock = require('hvsock');

const cid = Number(process.argv[2] ?? hvsock.Cid.HOST);
const port = Number(process.argv[3] ?? 5000);

let connections = 0;
const client = hvsock.createReconnectingClient({ cid, port, retry: { minDelay: 100, maxDelay: 5000 } }, (socket) => {
  connections += 1;
  // Say hello again on each connection: the host may be a fresh process that
  // knows nothing of us. (Lines in flight when it went away are lost.)
  socket.write(`hello from ${os.hostname()} pid ${process.pid} connection ${connections}\n`);
  readline
    .createInterface({ input: socket, crlfDelay: Infinity })
    .on('line', (line) => console.log(`reconnecting-agent: host says ${line}`));
});
client.on('connect', () => console.log(`reconnecting-agent: connected to vsock://${cid}:${port} (connection ${connections})`));
client.on('disconnect', (error) => console.log(`reconnecting-agent: disconnected${error ? ` (${error.code ?? error.message})` : ''}`));
client.on('retry', ({ attempt, delay, error }) =>
  console.log(`reconnecting-agent: attempt ${attempt} failed (${error.code}), next in ${delay} ms`),
);
client.on('error', (error) => {
  // Only errors that retrying cannot fix (a bad address, no vsock at all).
  console.error(`reconnecting-agent: giving up: ${error.message}`);
  process.exitCode = 1;
});
client.on('close', () => console.log('reconnecting-agent: stopped'));
const stop = () => client.close();
process.on('SIGTERM', stop).on('SIGINT', stop);

// Probe: terminates Workers at random moments while they accept and connect,
// and counts the sockets each one leaves behind in the process. Refuses to
// run outside the rig's guest (it connects AF_VSOCK). Not part of CI (the
// lifecycle suite has the deterministic cases):
//   HVSOCK_IO=poll node test/vm/run.mjs node test/probes/worker-terminate-race.js 40
//   HVSOCK_ADDON_PATH=/abs/other.node ... to try another build of the addon
// Each Worker listens, opens 10 connections that flood 64 KiB writes, and is
// terminated 0-80 ms after it starts listening. Prints
// { iterations, leakedRuns, leakedAll: [{ i, delay, leaked: ['fd -> socket:[ino]'] }] }.
// Before descriptor custody (native/addon_custody.h) the poll path leaked a
// socket in 13 of 40 runs; with it 0 of 40 (docs/performance.md).
'use strict';
const { readdirSync } = require('node:fs');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

if (isMainThread) {
  require('../helpers/guest-guard').assertInTestGuest(
    'to run this probe here: it connects AF_VSOCK',
    'node test/vm/run.mjs node test/probes/worker-terminate-race.js 40',
  );
  const fds = () => readdirSync('/proc/self/fd');
  const { describe } = require('../fixtures/worker-fds');
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const runWorker = (data, delay) =>
    new Promise((resolve, reject) => {
      const worker = new Worker(__filename, { workerData: data });
      worker.on('error', reject);
      worker.on('message', () => setTimeout(() => worker.terminate().then(resolve, reject), delay));
    });
  const iterations = Number(process.argv[2] ?? 30);
  const basePort = 40000 + Math.floor(Math.random() * 20000);
  (async () => {
    await runWorker({ plain: true }, 0); // the process's one-time set-up is not counted
    await sleep(100);
    const leakedAll = [];
    for (let i = 0; i < iterations; i++) {
      const before = fds();
      const delay = Math.floor(Math.random() * 80);
      await runWorker({ port: basePort + i }, delay);
      await sleep(150);
      const leaked = fds()
        .filter((fd) => !before.includes(fd))
        .map(describe);
      if (leaked.length > 0) leakedAll.push({ i, delay, leaked });
    }
    console.log(JSON.stringify({ iterations, leakedRuns: leakedAll.length, leakedAll }));
  })();
} else if (workerData.plain) {
  parentPort.postMessage('started');
} else {
  const hvsock = require('hvsock');
  const { port } = workerData;
  const server = hvsock.createServer((socket) => socket.pipe(socket));
  server.listen({ port }, () => {
    parentPort.postMessage('listening');
    const flood = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 10; i++) {
      const socket = hvsock.connect({ cid: 1, port });
      socket.on('error', () => {});
      socket.on('connect', () => {
        const pump = () => {
          while (socket.write(flood));
        };
        socket.on('drain', pump);
        pump();
      });
    }
  });
}

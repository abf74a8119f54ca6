#!/usr/bin/env node
// Where a bulk transfer, a round trip and a connection cycle spend their
// time, per transport: wall-clock µs per operation, the CPU time of the main
// thread (the event loop: our JavaScript and addon, Node's streams, the
// syscalls they make) split into user and system, and the whole process's
// CPU (with V8's and libuv's helper threads). Run in the rig's guest:
//   node test/vm/run.mjs node bench/cpu-split.mjs [--rounds 2000] [--conns 200] [--bulk 64 (MiB)]
// Each transport runs in a fresh process (the transports and scenarios of
// npm run bench) after a warm-up pass. hvsock and net-unix run the same Node
// stream code over the same kind of handle (a Pipe) and issue the same
// syscalls (strace), so main-thread user time per operation far above
// net-unix's means the emulated CPU runs that same code slower next to vsock,
// not that hvsock does more work (bench/pingpong.py is the Python control).
// The machine-wide context switch count shows why vsock differs:
// vsock_loopback delivers every packet from a kworker, where TCP and unix
// sockets deliver in the sender's own system call.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assertInTestGuest } from './lib/guard.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '2000' },
    conns: { type: 'string', default: '200' },
    bulk: { type: 'string', default: '64' },
    child: { type: 'boolean', default: false },
  },
});
const bulkMiB = Number(values.bulk);
const rounds = Number(values.rounds);
const conns = Number(values.conns);

async function measure(name) {
  const { scenarios } = await import('./lib/scenarios.mjs');
  const { transport } = await import('./lib/transports.mjs');
  const MiB = 1024 * 1024;
  const jobs = [
    ['bulk 64 KiB c2s (op = 1 MiB)', 'bulk', { bytes: bulkMiB * MiB, writeSize: 64 * 1024, direction: 'c2s' }, bulkMiB],
    ['rtt 64 B (op = round trip)', 'rtt', { rounds, size: 64 }, rounds],
    ['conn x1 (op = connection)', 'conn', { count: conns, concurrency: 1 }, conns],
  ];
  const out = {};
  for (const [label, scenario, params, ops] of jobs) {
    await scenarios[scenario](transport(name), params); // warm-up
    const cpu = process.cpuUsage();
    const main = mainThreadCpu();
    const switches = contextSwitches();
    const start = process.hrtime.bigint();
    await scenarios[scenario](transport(name), params);
    const wall = Number(process.hrtime.bigint() - start) / 1e3;
    const used = process.cpuUsage(cpu);
    const mainUsed = mainThreadCpu();
    const switched = contextSwitches() - switches;
    out[label] = {
      wall: wall / ops,
      mainUser: (mainUsed.user - main.user) / ops,
      mainSystem: (mainUsed.system - main.system) / ops,
      process: (used.user + used.system) / ops,
      switches: switched / ops,
    };
  }
  return out;
}

/** Context switches so far, machine-wide (/proc/stat ctxt): vsock_loopback hands packets to a kworker. */
function contextSwitches() {
  return Number(/^ctxt (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
}

/** The main thread's CPU time in µs ({ user, system }), from its /proc stat (10 ms ticks). */
function mainThreadCpu() {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10_000, system: Number(fields[12]) * 10_000 };
}

if (values.child) {
  process.send(await measure(positionals[0]));
  process.disconnect();
} else {
  assertInTestGuest('the CPU split (it connects AF_VSOCK sockets)');
  const names = positionals.length ? positionals : ['hvsock', 'hvsock-poll', 'net-tcp', 'net-unix'];
  const rows = [];
  for (const name of names) {
    const child = fork(fileURLToPath(import.meta.url), ['--child', `--rounds=${rounds}`, `--conns=${conns}`, `--bulk=${bulkMiB}`, name]);
    const [result] = await Promise.all([
      new Promise((resolve) => child.once('message', resolve)),
      new Promise((resolve) => child.once('exit', resolve)),
    ]);
    for (const [label, t] of Object.entries(result)) rows.push({ transport: name, case: label, ...t });
  }
  console.log(
    '| case | transport | wall µs/op | main thread user µs/op | main thread system µs/op | process CPU µs/op | context switches/op |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows.sort((a, b) => a.case.localeCompare(b.case))) {
    const cells = [r.wall, r.mainUser, r.mainSystem, r.process, r.switches].map((v) => v.toFixed(v < 10 ? 1 : 0));
    console.log(`| ${r.case} | ${r.transport} | ${cells.join(' | ')} |`);
  }
}

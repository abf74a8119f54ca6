#!/usr/bin/env node
// `npm run bench [-- --quick | --full] [--buffer-sweep] [--host-only | --guest-only] [--bulk=MiB] [--only=CASE]`
// 1. host: our socket machinery over AF_UNIX socketpairs (native speed)
//    against the C loop and Node's net on the same kind of socket;
// 2. guest: real vsock loopback inside the rig's QEMU guest (test/vm/run.mjs)
//    against the C loop, net over TCP and unix sockets, and node-vsock.
// Prints tables with medians and ratios plus the targets, writes
// bench/results/<timestamp>.json (git-ignored), and exits non-zero if any
// scenario failed. --quick: one tiny run of everything, a CI smoke test.
// --full: the sizes in the guest too (over an hour under TCG).
// --buffer-sweep: adds hvsock with bufferSize 1 MiB and 4 MiB (guest).
// --bulk=MiB: bulk transfer size; --only=CASE: cases whose name starts so
// ("bulk 64", "rtt", "conn", "2p"...). Both for checking one figure again.
// The guest runs on QEMU's instruction clock (HVSOCK_VM_ICOUNT=1: one vCPU,
// 1 ns per instruction, deterministic figures; docs/performance.md);
// --wall: plain TCG with 2 vCPUs and wall-clock figures instead.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCLoop } from './lib/c-loop.mjs';
import { buildGoPeer } from './lib/peers.mjs';
import { renderReport } from './lib/render.mjs';
import { runSuite } from './lib/suite.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flags = new Set(args);
const valueOf = (name) => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = flags.has('--quick');
const full = flags.has('--full') && !quick;
const bufferSweep = flags.has('--buffer-sweep') && !quick;
const bulkMiB = valueOf('bulk') === undefined ? undefined : Number(valueOf('bulk'));
if (bulkMiB !== undefined && !(Number.isInteger(bulkMiB) && bulkMiB > 0))
  throw new Error(`--bulk wants a whole number of MiB, not ${valueOf('bulk')}`);
const only = valueOf('only');
const icount = !flags.has('--wall') && process.env.HVSOCK_VM_ACCEL !== 'kvm';
const selection = { bufferSweep, bulkMiB, only };
const passOn = [JSON.stringify({ quick, full, icount, ...selection })];
const started = Date.now();
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

buildCLoop();
if (!flags.has('--host-only')) buildGoPeer();
const resultsDir = join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });

const host = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadBefore: load(),
};
const results = [];
let failed = false;

if (!flags.has('--guest-only')) {
  process.stderr.write(`[bench] host part (load average ${host.loadBefore})\n`);
  results.push(...(await runSuite('host', { quick, full, ...selection })));
}

const accel = process.env.HVSOCK_VM_ACCEL === 'kvm' ? 'kvm' : 'tcg';
let guest;
if (!flags.has('--host-only')) {
  const out = join(resultsDir, `.guest-${process.pid}.json`);
  process.stderr.write(`[bench] guest part: QEMU accel=${accel}${icount ? ' on the instruction clock' : ''} (load average ${load()})\n`);
  const guestStarted = Date.now();
  const rig = spawnSync(process.execPath, [join(root, 'test', 'vm', 'run.mjs'), 'node', 'bench/guest.mjs', out, ...passOn], {
    cwd: root,
    stdio: 'inherit',
    // The full guest part takes longer than the rig's default 15 minutes.
    env: { ...process.env, ...(icount ? { HVSOCK_VM_ICOUNT: '1' } : {}), HVSOCK_VM_TIMEOUT: process.env.HVSOCK_VM_TIMEOUT ?? '5400' },
  });
  host.guestSeconds = Math.round((Date.now() - guestStarted) / 1000);
  try {
    guest = JSON.parse(readFileSync(out, 'utf8'));
    results.push(...guest.results);
  } catch {
    process.stderr.write(`[bench] the guest part produced no results (rig exit ${rig.status})\n`);
    failed = true;
  }
  rmSync(out, { force: true });
  if (rig.status !== 0) failed = true;
}
host.loadAfter = load();

const { text, rows, checks, errors } = renderReport({
  results,
  quick,
  full,
  icount,
  accel,
  host,
  guest: guest?.machine,
  seconds: (Date.now() - started) / 1000,
});
process.stdout.write(`${text}\n`);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = join(resultsDir, `${quick ? 'quick-' : ''}${stamp}.json`);
writeFileSync(file, JSON.stringify({ quick, accel, icount, host, guest: guest?.machine, rows, checks, results, text }, null, 1));
process.stderr.write(`[bench] wrote ${file}\n`);
process.exitCode = failed || errors.length ? 1 : 0;

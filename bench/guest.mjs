// The in-guest half of `npm run bench` (run.mjs starts it through the rig):
//   node bench/guest.mjs <out.json> [--quick]
// Refuses to run anywhere but the rig's guest: it connects AF_VSOCK sockets.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { assertInTestGuest } from './lib/guard.mjs';
import { runSuite } from './lib/suite.mjs';

assertInTestGuest('the vsock benchmarks');
const [out, ...flags] = process.argv.slice(2);
const quick = flags.includes('--quick');
const results = await runSuite('guest', { quick });
const machine = {
  cpus: cpus().length,
  memoryMiB: Math.round(totalmem() / 2 ** 20),
  kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
  node: process.version,
};
writeFileSync(out, JSON.stringify({ machine, results }));
process.exitCode = results.some((r) => r.error) ? 1 : 0;

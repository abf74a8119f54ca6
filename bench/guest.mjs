// The in-guest half of `npm run bench` (run.mjs starts it through the rig):
//   node bench/guest.mjs <out.json> '<options JSON: quick, full, bufferSweep, bulkMiB, only>'
// Refuses to run anywhere but the rig's guest: it connects AF_VSOCK sockets.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { assertInTestGuest } from './lib/guard.mjs';
import { runSuite } from './lib/suite.mjs';

assertInTestGuest('the vsock benchmarks');
const [out, options = '{}'] = process.argv.slice(2);
const selection = JSON.parse(options);
const machine = {
  cpus: cpus().length,
  memoryMiB: Math.round(totalmem() / 2 ** 20),
  kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
  node: process.version,
};
// The peer-process cases (the targets) first; the file is written
// after each part so that a run stopped by the rig's timeout keeps what it measured.
const results = [];
for (const place of ['peers', 'guest']) {
  results.push(...(await runSuite(place, selection)));
  writeFileSync(out, JSON.stringify({ machine, results }));
}
process.exitCode = results.some((r) => r.error) ? 1 : 0;

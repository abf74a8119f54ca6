#!/usr/bin/env node
// One report from several runs' JSON files (bench/results/*.json), e.g. the
// guest part split by --only into parallel guests: on the instruction clock
// the figures are instruction counts, so guests running side by side do not
// change them.   node bench/merge.mjs bench/results/A.json bench/results/B.json ...
// Prints the tables and targets over all the results together; the machine
// facts are the first file's, the load averages the lowest and highest seen.
import { readFileSync } from 'node:fs';
import { renderReport } from './lib/render.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node bench/merge.mjs <results.json>...\n');
  process.exit(2);
}
const runs = files.map((file) => JSON.parse(readFileSync(file, 'utf8')));
if (new Set(runs.map((run) => run.icount)).size > 1) throw new Error('cannot merge instruction-clock runs with wall-clock runs');
const loads = runs.flatMap((run) => [run.host.loadBefore, run.host.loadAfter]).sort();
// A case that ran in two of the runs (--only matches by prefix: 'conn x1'
// also runs 'conn x100') is one result with the samples of both.
const merged = new Map();
for (const result of runs.flatMap((run) => run.results)) {
  const key = `${result.place}|${result.case}|${result.transport}`;
  const seen = merged.get(key);
  if (!seen || seen.error) merged.set(key, { ...result, samples: [...(result.samples ?? [])] });
  else if (!result.error) seen.samples.push(...result.samples);
}
const first = runs[0];
const { text } = renderReport({
  results: [...merged.values()],
  icount: first.icount,
  accel: first.accel,
  host: { ...first.host, loadBefore: loads[0], loadAfter: loads[loads.length - 1], guestSeconds: undefined },
  guest: runs.find((run) => run.guest)?.guest,
});
process.stdout.write(`${text}\n\nMerged from ${files.length} runs: ${files.join(', ')}\n`);

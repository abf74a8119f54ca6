#!/usr/bin/env node
// What a process's resident memory is made of after connect/close cycles,
// per transport, each in a fresh process: RSS at start, after loading the
// transport's module, and after N cycles (both ends in the process, forced
// GC before each reading), split into V8's heap (live objects vs the heap
// V8 keeps committed), other anonymous memory (malloc: libuv handles, the
// addon's objects, JIT compiler zones) and file-backed pages (the node
// binary, the addon). Run in the rig's guest, which has vsock loopback:
//   node test/vm/run.mjs node bench/memory-footprint.mjs [--cycles 2000] [--runs 3] [transports...]
// Each figure is the median of --runs fresh processes. A second pass runs
// the same processes with V8's young generation capped
// (--max-semi-space-size=1): what changes then is heap V8 chose to keep
// committed, not memory anything holds on to (docs/performance.md, "Memory").
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assertInTestGuest } from './lib/guard.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cycles: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
    child: { type: 'boolean', default: false },
  },
});
const MiB = 1024 * 1024;

/** Resident KiB by kind, from /proc/self/smaps: [heap] (brk), other anonymous mappings, file-backed. */
function residentByKind() {
  const kinds = { brk: 0, anon: 0, file: 0 };
  let mapping = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) mapping = line;
    else if (line.startsWith('Rss:')) {
      const kib = Number(line.split(/\s+/)[1]);
      // A mapping line names a path (6th field) or a pseudo-path such as [heap].
      const path = mapping.trim().split(/\s+/)[5];
      kinds[path === '[heap]' ? 'brk' : path === undefined || path.startsWith('[') ? 'anon' : 'file'] += kib;
    }
  }
  return kinds;
}

function reading() {
  globalThis.gc();
  globalThis.gc();
  const { rss, heapUsed, heapTotal } = process.memoryUsage();
  const kinds = residentByKind();
  return {
    rss: rss / MiB,
    heapUsed: heapUsed / MiB,
    heapTotal: heapTotal / MiB,
    otherAnon: (kinds.brk + kinds.anon) / 1024 - heapTotal / MiB,
    file: kinds.file / 1024,
  };
}

async function measure(name, cycles) {
  const start = reading();
  const { scenarios } = await import('./lib/scenarios.mjs');
  const { transport } = await import('./lib/transports.mjs');
  const chosen = transport(name);
  // Loading the transport's module is part of what the program pays for.
  if (name.startsWith('hvsock')) (await import('node:module')).createRequire(import.meta.url)('hvsock');
  const loaded = reading();
  await scenarios.conn(chosen, { count: cycles, concurrency: 1 });
  return { start, loaded, after: reading() };
}

const median = (list) => [...list].sort((a, b) => a - b)[list.length >> 1];

if (values.child) {
  process.send(await measure(positionals[0], Number(values.cycles)));
  process.disconnect();
} else {
  assertInTestGuest('the memory footprint (it connects AF_VSOCK sockets)');
  const names = positionals.length ? positionals : ['net-tcp', 'hvsock', 'hvsock-poll'];
  const runs = Number(values.runs);
  console.log(
    `| V8 flags | transport | RSS at start | after load | after ${values.cycles} cycles | V8 heap used | V8 heap committed | other anonymous | file-backed |`,
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const flags of [[], ['--max-semi-space-size=1']]) {
    for (const name of names) {
      const samples = [];
      for (let run = 0; run < runs; run++) {
        const child = fork(fileURLToPath(import.meta.url), ['--child', `--cycles=${values.cycles}`, name], {
          execArgv: ['--expose-gc', ...flags],
        });
        samples.push(await new Promise((resolve, reject) => child.once('message', resolve).once('error', reject)));
      }
      const pick = (stage, field) => median(samples.map((s) => s[stage][field])).toFixed(1);
      const cells = [
        pick('start', 'rss'),
        pick('loaded', 'rss'),
        pick('after', 'rss'),
        pick('after', 'heapUsed'),
        pick('after', 'heapTotal'),
        pick('after', 'otherAnon'),
        pick('after', 'file'),
      ];
      console.log(`| ${flags.join(' ') || 'defaults'} | ${name} | ${cells.join(' | ')} |`);
    }
  }
  console.log(`MiB; medians of ${runs} fresh processes per row.`);
}

// The report's text from a run's results: host, guest and peer-process
// tables, the targets and the failures. Shared by bench/run.mjs and
// bench/merge.mjs (one report from several runs, e.g. the guest part split
// into parallel guests by --only).
import { legend, summarize, table, targetLines, targets } from './report.mjs';

/**
 * `results`: samples as suite.mjs returns them; `host`: the machine facts
 * run.mjs records; `guest`: the guest's machine facts, if a guest ran.
 * Returns { text, rows, checks, errors }.
 */
export function renderReport({ results, quick = false, full = false, icount, accel, host, guest, seconds }) {
  const rows = summarize(results);
  const checks = targets(rows);
  const errors = results.filter((r) => r.error);
  const lines = [];
  const say = (line = '') => lines.push(line);
  say(
    `# hvsock benchmarks ${new Date().toISOString()}${quick ? ' (--quick: smoke run, figures meaningless)' : full ? ' (--full: the issue sizes everywhere)' : ''}`,
  );
  say(
    `host: ${host.cpus} cores (${host.cpu}), ${host.memoryGiB} GiB, Node ${host.node}; load average ${host.loadBefore} before, ${host.loadAfter} after`,
  );
  if (results.some((r) => r.place === 'host')) {
    say('\n## Host, native speed: our I/O machinery on an AF_UNIX socketpair (stand-in for vsock)');
    say(legend('host'));
    say('Ratios are ours ÷ baseline: above 1 is better for throughput and rates, below 1 for latency.\n');
    say(table(rows, 'host'));
  }
  if (guest) {
    say(
      `\n## Guest: real vsock loopback, QEMU accel=${accel.toUpperCase()}, ${guest.cpus} vCPUs, ${guest.memoryMiB} MiB, kernel ${guest.kernel}`,
    );
    if (icount) {
      say('Instruction clock (QEMU -icount shift=0, 1 vCPU): every guest nanosecond is one executed instruction, so the');
      say('figures are deterministic instruction costs; cache, TLB and real context-switch costs are not in them.');
      say('Each cell: median ±(farthest run from it).');
    } else if (accel === 'tcg') {
      say('!!! TCG: the guest CPU is emulated. JIT-compiled Node code is penalised more than C, so Node ÷ C ratios here');
      say('!!! are pessimistic and only indicative: compare Node against Node, and see the host table for our overhead.');
    }
    if (results.some((r) => r.place === 'guest')) {
      say(legend('guest'));
      say('');
      say(table(rows, 'guest'));
    }
    if (rows.some((r) => r.place === 'peers')) {
      say('\n## Guest, each end its own process (server and client): cost bound and alternatives');
      say(legend('peers'));
      say('');
      say(table(rows, 'peers'));
    }
  }
  say('\n## Targets');
  say(targetLines(checks));
  if (errors.length) {
    say('\n## Failures');
    for (const e of errors) say(`- ${e.place} ${e.case} / ${e.transport}: ${e.error}`);
  }
  if (seconds !== undefined)
    say(`\nTotal time ${seconds.toFixed(0)} s${host.guestSeconds === undefined ? '' : `, guest part ${host.guestSeconds} s`}.`);
  return { text: lines.join('\n'), rows, checks, errors };
}

// Turns raw samples into medians, a table with ratios against each baseline,
// and the target checks.
import { places, transportNames } from './config.mjs';

const MiB = 2 ** 20;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// The figures of a scenario: [metric, unit, pick(sample), lower is better].
const metrics = {
  bulk: [['throughput', 'MiB/s', (s) => s.bytes / s.seconds / MiB, false]],
  streams: [['aggregate', 'MiB/s', (s) => s.bytes / s.seconds / MiB, false]],
  rtt: [
    ['median RTT', 'µs', (s) => s.medianUs, true],
    ['p99 RTT', 'µs', (s) => s.p99Us, true],
  ],
  conn: [['rate', 'conn/s', (s) => s.ops / s.seconds, false]],
  memory: [
    ['RSS growth', 'KiB', (s) => s.rssGrowth / 1024, true],
    ['RSS growth, 2nd half', 'KiB', (s) => s.rssGrowthSecondHalf / 1024, true],
    ['JS heap growth', 'KiB', (s) => s.heapGrowth / 1024, true],
    ['fd growth', 'fds', (s) => s.fdGrowth, true],
  ],
};

/** Rows of { place, case, metric, unit, lowerIsBetter, values: { transport: median }, errors }. */
export function summarize(results) {
  const rows = new Map();
  for (const result of results) {
    for (const [metric, unit, pick, lowerIsBetter] of metrics[result.scenario]) {
      const key = `${result.place}|${result.case}|${metric}`;
      if (!rows.has(key)) rows.set(key, { place: result.place, case: result.case, metric, unit, lowerIsBetter, values: {}, errors: {} });
      const row = rows.get(key);
      if (result.error) row.errors[result.transport] = result.error;
      else if (result.samples.length) {
        const values = result.samples.map(pick);
        const mid = median(values);
        row.values[result.transport] = mid;
        // Per run, in run order: run k of every transport ran back to back
        // (suite.mjs interleaves them), so targets compare run k with run k.
        row.runs ??= {};
        row.runs[result.transport] = values;
        // Spread across runs: the farthest run from the median, as a fraction of it.
        row.spreads ??= {};
        row.spreads[result.transport] = mid ? Math.max(...values.map((v) => Math.abs(v - mid))) / Math.abs(mid) : 0;
      }
    }
  }
  return [...rows.values()];
}

const format = (value) => {
  if (value === undefined) return '—';
  const abs = Math.abs(value);
  return abs >= 100 || Number.isInteger(value) ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
};

/** A median with its spread across runs (farthest run from the median, in %), when there were several runs. */
function withSpread(row, transport) {
  const value = format(row.values[transport]);
  const spread = row.spreads?.[transport];
  if (spread === undefined || row.metric.includes('growth')) return value;
  return `${value} ±${(spread * 100).toFixed(spread < 0.1 ? 1 : 0)}%`;
}

function pad(cells, widths) {
  return `| ${cells.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ')} |`;
}

/** A markdown table of one place: absolute medians, then ours ÷ each baseline. */
export function table(rows, place) {
  const { ours, baselines } = places[place];
  const mine = rows.filter((row) => row.place === place);
  const extra = [...new Set(mine.flatMap((row) => Object.keys(row.values)))].filter((t) => t !== ours && !baselines.includes(t));
  const columns = [ours, ...baselines, ...extra];
  const header = ['case', 'metric', ...columns, ...baselines.map((b) => `${ours}/${b}`)];
  const body = mine.map((row) => {
    const mineValue = row.values[ours];
    const ratios = baselines.map((b) => {
      const base = row.values[b];
      if (row.metric.includes('growth') || mineValue === undefined || !base) return '—';
      return `${(mineValue / base).toFixed(2)}×`;
    });
    const cells = columns.map((t) => (row.errors[t] ? 'FAILED' : withSpread(row, t)));
    return [row.case, `${row.metric} (${row.unit})`, ...cells, ...ratios];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  return [
    pad(header, widths),
    pad(
      widths.map((w) => '-'.repeat(w)),
      widths,
    ),
    ...body.map((r) => pad(r, widths)),
  ].join('\n');
}

export function legend(place) {
  const { ours, baselines } = places[place];
  return [ours, ...baselines].map((t) => `- ${t}: ${transportNames[t]}`).join('\n');
}

function ratio(rows, place, caseId, metric, baseline) {
  const row = rows.find((r) => r.place === place && r.case === caseId && r.metric === metric);
  const mine = row?.values[places[place].ours];
  const base = row?.values[baseline];
  return mine !== undefined && base ? mine / base : undefined;
}

/**
 * `combine(...valuesOfOneRun)` over the runs of `transports` in `row`, run k
 * with run k: { value (the median), low, high }, or undefined. On the
 * instruction clock the conditions of a run (how the one vCPU interleaves
 * the processes) move Node's figures by up to ±50% between runs, and they
 * move every transport of that run alike: a ratio within a run is steadier
 * than the ratio of two medians. Runs are paired only when every
 * transport has the same number of them; otherwise the medians are used.
 */
function paired(row, transports, combine) {
  const runs = transports.map((t) => row.runs?.[t]);
  if (runs.some((r) => !r?.length)) return undefined;
  const count = runs[0].length;
  const perRun = runs.every((r) => r.length === count)
    ? Array.from({ length: count }, (_, k) => combine(...runs.map((r) => r[k])))
    : [combine(...transports.map((t) => row.values[t]))];
  const finite = perRun.filter((v) => Number.isFinite(v));
  if (!finite.length) return undefined;
  return { value: median(finite), low: Math.min(...finite), high: Math.max(...finite) };
}

/** The targets: [{ place, what, value, goal, met, low?, high? }]. */
export function targets(rows) {
  const checks = [];
  const add = (place, what, value, goal, ok) => {
    if (value === undefined) return;
    const range = typeof value === 'object' ? value : { value };
    checks.push({ place, what, ...range, goal, met: ok(range.value) });
  };
  const bulkCases = (place) => [
    ...new Set(rows.filter((r) => r.place === place && r.case.startsWith('bulk ') && !r.case.includes('buffer')).map((r) => r.case)),
  ];
  // Host, native speed (issue #17): every stand-in case at least 0.95× Node's
  // net on the same kind of socketpair, round trips at most 1.1× net's.
  const versusNet = (row) => row && paired(row, ['standin', 'net-pair'], (mine, net) => mine / net);
  for (const row of rows.filter((r) => r.place === 'host' && (r.unit === 'MiB/s' || r.unit === 'conn/s'))) {
    add('host', `${row.case} vs net-pair`, versusNet(row), '≥ 0.95', (v) => v >= 0.95);
  }
  const hostRtt = rows.find((r) => r.place === 'host' && r.case === 'rtt 64 B' && r.metric === 'median RTT');
  add('host', 'rtt 64 B median vs net-pair', versusNet(hostRtt), '≤ 1.1', (v) => v <= 1.1);
  add('host', 'rtt 64 B median vs c-pair', ratio(rows, 'host', 'rtt 64 B', 'median RTT', 'c-pair'), '≤ 1.2', (v) => v <= 1.2);
  for (const c of bulkCases('guest')) {
    add('guest', `${c} vs c-vsock`, ratio(rows, 'guest', c, 'throughput', 'c-vsock'), '≥ 0.8', (v) => v >= 0.8);
    add('guest', `${c} vs node-vsock`, ratio(rows, 'guest', c, 'throughput', 'node-vsock'), '≥ 1.5', (v) => v >= 1.5);
  }
  add('guest', 'rtt 64 B median vs net-tcp', ratio(rows, 'guest', 'rtt 64 B', 'median RTT', 'net-tcp'), '≤ 1.1', (v) => v <= 1.1);
  for (const c of [...new Set(rows.filter((r) => r.place === 'guest' && r.case.startsWith('conn')).map((r) => r.case))]) {
    add('guest', `${c} vs net-tcp`, ratio(rows, 'guest', c, 'rate', 'net-tcp'), '≥ 0.9', (v) => v >= 0.9);
  }
  // Our own cost no larger than Node's own, per bulk MiB, round trip and
  // connection, each end its own process: (hvsock − C over vsock) ≤ 1.1 ×
  // (net over TCP − C over TCP). The value is the left side ÷ the right.
  const cost = { throughput: (v) => 1 / v, 'median RTT': (v) => v, rate: (v) => 1 / v };
  for (const row of rows.filter((r) => r.place === 'peers' && cost[r.metric])) {
    const per = cost[row.metric];
    const bound = (hvsock, cVsock, net, cTcp) => {
      const node = per(net) - per(cTcp);
      return node > 0 ? (per(hvsock) - per(cVsock)) / node : NaN;
    };
    add(
      'peers',
      `${row.case} ${row.metric}: (hvsock − c-vsock) ÷ (net-tcp − c-tcp)`,
      paired(row, ['hvsock', 'c-vsock', 'net-tcp', 'c-tcp'], bound),
      '≤ 1.1',
      (x) => x <= 1.1,
    );
  }
  const peerRatio = (caseId, metric, baseline) => {
    const row = rows.find((r) => r.place === 'peers' && r.case === caseId && r.metric === metric);
    return row && paired(row, ['hvsock', baseline], (mine, base) => mine / base);
  };
  const bulk2p = '2p bulk 64 KiB c2s';
  add('peers', `${bulk2p} vs node-vsock`, peerRatio(bulk2p, 'throughput', 'node-vsock'), '≥ 1.5', (v) => v >= 1.5);
  add('peers', '2p rtt 64 B median vs node-vsock', peerRatio('2p rtt 64 B', 'median RTT', 'node-vsock'), '≤ 0.7', (v) => v <= 0.7);
  add('peers', `${bulk2p} vs socat-net`, peerRatio(bulk2p, 'throughput', 'socat-net'), '≥ 3', (v) => v >= 3);
  add('peers', '2p rtt 64 B median vs socat-net', peerRatio('2p rtt 64 B', 'median RTT', 'socat-net'), '≤ 0.5', (v) => v <= 0.5);
  // The default I/O path at least as fast as the poll path in every guest case
  // (as a speed: poll's time ÷ ours for latencies).
  for (const row of rows.filter((r) => r.place !== 'host' && !r.metric.includes('growth'))) {
    if (row.metric.startsWith('p99')) continue;
    add(
      row.place,
      `${row.case} ${row.metric}: default ÷ poll (speed)`,
      paired(row, ['hvsock', 'hvsock-poll'], (mine, poll) => (row.lowerIsBetter ? poll / mine : mine / poll)),
      '≥ 1.0',
      (v) => v >= 1,
    );
  }
  for (const row of rows.filter((r) => r.case.startsWith('memory'))) {
    const ours = places[row.place].ours;
    if (row.metric === 'RSS growth') add(row.place, `${row.case} RSS growth (KiB)`, row.values[ours], '< 1024', (v) => v < 1024);
    if (row.metric === 'fd growth') add(row.place, `${row.case} fd growth`, row.values[ours], '= 0', (v) => v === 0);
  }
  return checks;
}

export function targetLines(checks) {
  const range = (c) => (c.low !== undefined && c.low !== c.high ? `, runs ${format(c.low)}–${format(c.high)}` : '');
  return checks
    .map((c) => `- [${c.met ? 'met' : 'MISSED'}] ${c.place}: ${c.what} = ${format(c.value)}${range(c)} (target ${c.goal})`)
    .join('\n');
}

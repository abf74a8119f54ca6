// What runs where, and how big. Two places:
//   host:  our socket machinery on AF_UNIX socketpairs (the stand-in) at
//          native speed, against the C loop and Node's net on the same kind
//          of socket;
//   guest: the real thing over vsock loopback in the rig's QEMU guest (TCG).
// Sizes follow the issue on the host; the guest's bulk and stream sizes are
// cut so the whole bench fits in 10 minutes under TCG (see README).
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// The last "baseline" of each place is our own second I/O path (io: 'poll'),
// so the table shows handle ÷ poll beside the other ratios.
export const places = {
  host: { ours: 'standin', baselines: ['c-pair', 'net-pair', 'net-unix', 'standin-poll'] },
  guest: { ours: 'hvsock', baselines: ['c-vsock', 'net-tcp', 'net-unix', 'node-vsock', 'hvsock-poll'] },
  // In the guest too, each end in its own process (the issue's cost and
  // alternatives targets): C over vsock and over TCP for the cost bound,
  // then the alternatives and the Go and Python reference peers.
  peers: {
    ours: 'hvsock',
    baselines: ['c-vsock', 'net-tcp', 'c-tcp', 'hvsock-poll', 'node-vsock', 'socat-net', 'go-vsock', 'py-vsock'],
  },
};

/** Descriptions for the table's legend. */
export const transportNames = {
  standin: 'hvsock machinery (adopted Pipe handle + VsockSocket) on an AF_UNIX socketpair',
  hvsock: 'hvsock over vsock loopback (CID 1), default I/O path (descriptor adopted into a Node stream handle)',
  'hvsock-poll': "hvsock over vsock loopback, io: 'poll' (uv_poll + read/writev Duplex, the fallback path)",
  'standin-poll': "hvsock's poll I/O path (PollSocket: uv_poll + read/writev Duplex) on an AF_UNIX socketpair",
  'c-pair': 'C blocking read/write loop on an AF_UNIX socketpair',
  'c-vsock': 'C blocking read/write loop over vsock loopback',
  'net-pair': "Node's net on an AF_UNIX socketpair (new net.Socket({ fd }))",
  'net-unix': "Node's net over a unix socket (listen/connect on a path)",
  'net-tcp': "Node's net over TCP 127.0.0.1",
  'node-vsock': 'npm node-vsock (its prebuilt addon node-vsock-linux-x64-gnu)',
  'c-tcp': 'C blocking read/write loop over TCP 127.0.0.1',
  'socat-net':
    "Node's net on unix sockets, bridged over vsock by socat at each end (VSOCK-LISTEN:P,fork UNIX-CONNECT / UNIX-LISTEN,fork VSOCK-CONNECT:1:P)",
  'go-vsock': 'Go with mdlayher/vsock 1.2.0 (Debian golang-github-mdlayher-vsock-dev), blocking Read/Write',
  'py-vsock': "Python's socket module (AF_VSOCK), blocking sendall/recv_into",
};

// Guest sizes. Under TCG on this 2-core machine (quiet) C moves ~70-120 MiB/s
// over vsock, Node 40-90 MiB/s, and a connect+close cycle takes 4-15 ms:
// the issue's sizes (1 GiB, 5000 connections, 100x16 MiB, 10k cycles, for six
// transports, five runs each) take over an hour there. The default keeps
// `npm run bench` to about 8 minutes: 96 MiB per bulk run (seconds of steady
// state after a warm-up transfer; back to back, 128 and 256 MiB runs gave
// ratios within the run-to-run spread, e.g. vs node-vsock 1.03 and 1.25
// against 1.07 and 1.26), 1000 round trips, 100 sequential and 200 concurrent
// connections, 100x512 KiB streams, 1000 cycles. --full runs the issue's
// sizes in the guest too.
const GUEST_SIZES = { runs: 5, bulk: 96 * MiB, rounds: 1000, conns: [100, 200], concurrency: 100, streams: [100, 512 * KiB], cycles: 1000 };
// On the instruction clock (the default guest mode) one vCPU runs everything
// and emulation with instruction counting is slower in wall time: smaller
// sizes. C, Go and Python repeat within 1% there, Node's figures do not
// (5-45% between runs: how the one vCPU interleaves the processes and
// Node's own threads), so 5 runs for a steadier median.
const ICOUNT_SIZES = { runs: 5, bulk: 32 * MiB, rounds: 500, conns: [100, 200], concurrency: 100, streams: [50, 256 * KiB], cycles: 500 };
const ISSUE_SIZES = {
  runs: 5,
  bulk: 1 * GiB,
  rounds: 10_000,
  conns: [5000, 5000],
  concurrency: 100,
  streams: [100, 16 * MiB],
  cycles: 10_000,
};
// A discarded warm-up run (suite.mjs) only needs to get the JIT (and under
// TCG the translation cache) warm, not to move the full amount.
const WARMUP_BYTES = { host: 64 * MiB, guest: 16 * MiB };
const WARMUP_STREAM_BYTES = 256 * KiB;

// The peer-process cases (the issue's sizes; one vCPU on the instruction
// clock, so the figures are instruction counts, see docs/performance.md).
// Five runs, as above. Bulk is 64 MiB, not the issue's 256: the cost per
// MiB is what is compared, and the time is short.
const PEER_SIZES = { runs: 5, bulk: 64 * MiB, rounds: 2000, conns: 500 };
const PEER_QUICK = { runs: 1, bulk: 1 * MiB, rounds: 50, conns: 20 };

/** The peer-process cases: each sample a server process and a client process. */
function peerCases({ quick, icount }) {
  const s = quick ? PEER_QUICK : PEER_SIZES;
  // node-vsock stalls here on the instruction clock: after its first sample
  // no reply comes and the guest clock crawls (its reader threads spin on a
  // closed socket and own the one vCPU), so it runs in --wall runs only.
  const all = [places.peers.ours, ...places.peers.baselines].filter((name) => !icount || name !== 'node-vsock');
  return [
    {
      id: '2p bulk 64 KiB c2s',
      scenario: 'bulk',
      params: { bytes: s.bulk, writeSize: 64 * KiB },
      warmup: { bytes: Math.min(s.bulk, WARMUP_BYTES.guest) },
      transports: all,
    },
    {
      id: '2p rtt 64 B',
      scenario: 'rtt',
      params: { rounds: s.rounds, size: 64 },
      warmup: { rounds: Math.min(s.rounds, 500) },
      transports: all,
    },
    {
      id: '2p conn x1',
      scenario: 'conn',
      params: { count: s.conns },
      warmup: { count: Math.min(s.conns, 100) },
      // node-vsock: see below (connect retries with sleeps on ECONNRESET).
      transports: all.filter((name) => name !== 'node-vsock'),
    },
  ].map((c) => ({ runs: s.runs, peers: true, ...c }));
}

function sizes(place, { quick, full, icount }) {
  if (quick) {
    return { runs: 1, bulk: 1 * MiB, rounds: 50, conns: [20, 20], concurrency: 10, streams: [4, 256 * KiB], cycles: 20 };
  }
  if (place === 'host' || full) return ISSUE_SIZES;
  return icount ? ICOUNT_SIZES : GUEST_SIZES;
}

/**
 * The cases of one place: { id, scenario, params, runs, transports }.
 * `bulkMiB` overrides the bulk transfer size; `only` keeps the cases whose
 * id starts with it (e.g. 'bulk 64').
 * `transports` entries are names, or { name, label, options } variants.
 */
export function cases(place, { quick = false, full = false, icount = false, bufferSweep = false, bulkMiB, only } = {}) {
  if (place === 'peers') return peerCases({ quick, icount }).filter((c) => !only || c.id.startsWith(only));
  const s = { ...sizes(place, { quick, full, icount }), ...(bulkMiB ? { bulk: bulkMiB * MiB } : {}) };
  const { ours, baselines } = places[place];
  const all = [ours, ...baselines];
  // node-vsock's connect thread meets ECONNRESET on vsock loopback and retries
  // after sleeping 1 s, 2 s, 4 s...: connection-heavy cases time out with it,
  // so it runs the single-connection cases only.
  const connectionHeavy = all.filter((name) => name !== 'node-vsock');
  // On the instruction clock node-vsock's blocking writes and its reader
  // thread share the one vCPU inside one process and the bulk cases stall;
  // it runs in the peer-process cases there (each end its own process).
  // The 1 MiB-write cases are left to --wall runs (they tell the same story).
  const bulkTransports = icount ? connectionHeavy : all;
  const list = [];
  for (const writeSize of icount ? [64 * KiB] : [64 * KiB, 1 * MiB]) {
    for (const direction of ['c2s', 's2c']) {
      list.push({
        id: `bulk ${writeSize / KiB} KiB ${direction}`,
        scenario: 'bulk',
        params: { bytes: s.bulk, writeSize, direction },
        warmup: { bytes: Math.min(s.bulk, WARMUP_BYTES[place]) },
        transports: bulkTransports,
      });
    }
  }
  list.push({ id: 'rtt 64 B', scenario: 'rtt', params: { rounds: s.rounds, size: 64 }, transports: icount ? connectionHeavy : all });
  s.conns.forEach((count, i) => {
    const concurrency = i === 0 ? 1 : s.concurrency;
    list.push({ id: `conn x${concurrency}`, scenario: 'conn', params: { count, concurrency }, transports: connectionHeavy });
  });
  const [count, bytesEach] = s.streams;
  list.push({
    id: `streams ${count}x${bytesEach / KiB} KiB`,
    scenario: 'streams',
    params: { count, bytesEach, writeSize: 64 * KiB },
    warmup: { bytesEach: Math.min(bytesEach, WARMUP_STREAM_BYTES) },
    transports: connectionHeavy,
  });
  list.push({
    id: `memory ${s.cycles} cycles`,
    scenario: 'memory',
    params: { count: s.cycles, warmup: quick ? s.cycles : 0 }, // full runs warm up in run 0:
    // In the guest (a cycle costs ~5-15 ms under TCG) a quarter of the cycles;
    // the host warms up with all of them: less left it growing by MiBs still.
    warmup: place === 'guest' ? { count: Math.ceil(s.cycles / 4) } : undefined,
    transports: connectionHeavy.filter((name) => !name.startsWith('c-')),
    // A leak check, not a timing. RSS after a forced GC still moves by MiBs
    // from run to run (V8 and malloc keep or return pages as they please), so
    // the host, where a run takes seconds, reports the median of 3.
    runs: place === 'host' && !quick ? 3 : 1,
  });
  if (place === 'guest' && bufferSweep) {
    // SO_VM_SOCKETS_BUFFER_SIZE sweep (kernel default 256 KiB): what the bufferSize option buys.
    const variants = [1 * MiB, 4 * MiB].map((bufferSize) => ({
      name: 'hvsock',
      label: `hvsock buf ${bufferSize / MiB} MiB`,
      options: { bufferSize },
    }));
    list.push({
      id: 'bulk 64 KiB c2s, buffer sizes',
      scenario: 'bulk',
      params: { bytes: s.bulk, writeSize: 64 * KiB, direction: 'c2s' },
      warmup: { bytes: Math.min(s.bulk, WARMUP_BYTES[place]) },
      transports: ['hvsock', ...variants],
    });
  }
  return list.filter((c) => !only || c.id.startsWith(only)).map((c) => ({ runs: s.runs, ...c }));
}

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

export const places = {
  host: { ours: 'standin', baselines: ['c-pair', 'net-pair', 'net-unix'] },
  guest: { ours: 'hvsock', baselines: ['c-vsock', 'net-tcp', 'net-unix', 'node-vsock'] },
};

/** Descriptions for the table's legend. */
export const transportNames = {
  standin: 'hvsock machinery (adopted Pipe handle + VsockSocket) on an AF_UNIX socketpair',
  hvsock: 'hvsock over vsock loopback (CID 1)',
  'c-pair': 'C blocking read/write loop on an AF_UNIX socketpair',
  'c-vsock': 'C blocking read/write loop over vsock loopback',
  'net-pair': "Node's net on an AF_UNIX socketpair (new net.Socket({ fd }))",
  'net-unix': "Node's net over a unix socket (listen/connect on a path)",
  'net-tcp': "Node's net over TCP 127.0.0.1",
  'node-vsock': 'npm node-vsock (its prebuilt addon node-vsock-linux-x64-gnu)',
};

// Guest sizes: measured under TCG on this 2-core machine shared with other
// users (load 3): C over vsock ran ~30 MiB/s, hvsock connect+close ~20 ms,
// node-vsock ~7 ms per 64-byte round trip. Issue sizes (1 GiB, 5000 conns,
// 100x16 MiB, 10k cycles) would take well over an hour there, so the guest
// runs smaller transfers and counts; the host runs the sizes.
// (A full run took ~3 min at load 1.3; these sizes leave room for load 3.)
function sizes(place, quick) {
  if (quick) {
    return { runs: 1, bulk: 1 * MiB, rounds: 50, conns: 20, concurrency: 10, streams: [4, 256 * KiB], cycles: 20 };
  }
  if (place === 'host') {
    return { runs: 5, bulk: 1 * GiB, rounds: 10_000, conns: 5000, concurrency: 100, streams: [100, 16 * MiB], cycles: 10_000 };
  }
  return { runs: 5, bulk: 32 * MiB, rounds: 2000, conns: 200, concurrency: 100, streams: [100, 1 * MiB], cycles: 1000 };
}

/**
 * The cases of one place: { id, scenario, params, runs, transports }.
 * `transports` entries are names, or { name, label, options } variants.
 */
export function cases(place, { quick = false } = {}) {
  const s = sizes(place, quick);
  const { ours, baselines } = places[place];
  const all = [ours, ...baselines];
  // node-vsock's connect thread meets ECONNRESET on vsock loopback and retries
  // after sleeping 1 s, 2 s, 4 s...: connection-heavy cases time out with it,
  // so it runs the single-connection cases only.
  const connectionHeavy = all.filter((name) => name !== 'node-vsock');
  const list = [];
  for (const writeSize of [64 * KiB, 1 * MiB]) {
    for (const direction of ['c2s', 's2c']) {
      list.push({
        id: `bulk ${writeSize / KiB} KiB ${direction}`,
        scenario: 'bulk',
        params: { bytes: s.bulk, writeSize, direction },
        transports: all,
      });
    }
  }
  list.push({ id: 'rtt 64 B', scenario: 'rtt', params: { rounds: s.rounds, size: 64 }, transports: all });
  for (const concurrency of [1, s.concurrency]) {
    list.push({ id: `conn x${concurrency}`, scenario: 'conn', params: { count: s.conns, concurrency }, transports: connectionHeavy });
  }
  const [count, bytesEach] = s.streams;
  list.push({
    id: `streams ${count}x${bytesEach / KiB} KiB`,
    scenario: 'streams',
    params: { count, bytesEach, writeSize: 64 * KiB },
    transports: connectionHeavy,
  });
  list.push({
    id: `memory ${s.cycles} cycles`,
    scenario: 'memory',
    params: { count: s.cycles, warmup: quick ? s.cycles : 0 }, // full runs warm up in run 0
    transports: connectionHeavy.filter((name) => !name.startsWith('c-')),
    runs: 1, // a leak check, not a timing: one long run (after the warm-up run)
  });
  if (place === 'guest' && !quick) {
    // SO_VM_SOCKETS_BUFFER_SIZE sweep (kernel default 256 KiB) to choose the library default.
    const variants = [1 * MiB, 4 * MiB].map((bufferSize) => ({
      name: 'hvsock',
      label: `hvsock buf ${bufferSize / MiB} MiB`,
      options: { bufferSize },
    }));
    list.push({
      id: 'bulk 64 KiB c2s, buffer sizes',
      scenario: 'bulk',
      params: { bytes: s.bulk, writeSize: 64 * KiB, direction: 'c2s' },
      transports: ['hvsock', ...variants],
    });
  }
  return list.map((c) => ({ runs: s.runs, ...c }));
}

// Runs the cases of one place. Runs are interleaved (run 1 of every
// transport, then run 2, ...) so that load from other users of the machine
// spreads over all transports alike. Node transports each live in one forked
// worker (bench/worker.mjs); the C loop runs as a fresh process per sample.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cLoopSupports, runCLoop } from './c-loop.mjs';
import { cases } from './config.mjs';
import { isPeerProgram, runPeerProgram } from './peers.mjs';

const workerPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'worker.mjs');

// Workers killed after every sample: node-vsock's reader threads spin on
// EBADF/ENOTCONN once a socket is closed. On the instruction clock (one
// vCPU, time = instructions executed by anyone) a spinning thread would be
// counted in every later figure.
const disposable = new Set(['node-vsock']);
// HVSOCK_BENCH_VERBOSE=1: a line per sample (which one hangs, how far a long run is).
const verbose = process.env.HVSOCK_BENCH_VERBOSE === '1';

class Workers {
  constructor() {
    this.byName = new Map();
  }

  /** The worker `key` (a transport name, or name:role for the peer-process cases) running transport `name`. */
  get(key, name = key) {
    let child = this.byName.get(key);
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      child = fork(workerPath, [name], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      // One listener each for the worker's life; the pending job (if any) takes the replies.
      child.on('message', (message) => child.settle?.(message));
      child.on('exit', (code, signal) => child.settle?.({ error: `worker exited (${signal ?? code})` }));
      this.byName.set(key, child);
    }
    return child;
  }

  /**
   * Sends a job; returns next(), which resolves with the worker's next reply.
   * A worker that errs, times out or dies is killed and replaced next time.
   */
  send(key, name, job, timeoutMs) {
    const child = this.get(key, name);
    const replies = [];
    let waiting;
    child.settle = (message) => (waiting ? waiting(message) : replies.push(message));
    child.send(job);
    return async () => {
      let timer;
      const message =
        replies.shift() ??
        (await new Promise((resolve) => {
          waiting = resolve;
          timer = setTimeout(() => resolve({ error: `timed out after ${timeoutMs / 1000} s` }), timeoutMs);
        }));
      waiting = undefined;
      clearTimeout(timer);
      if (message.error) {
        child.kill('SIGKILL');
        throw new Error(message.error);
      }
      return message;
    };
  }

  /** Kills the worker `key` and waits until it is gone. */
  async retire(key) {
    const child = this.byName.get(key);
    this.byName.delete(key);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  /** One sample from the transport's own worker. */
  async sample(name, job, timeoutMs) {
    try {
      return (await this.send(name, name, job, timeoutMs)()).sample;
    } finally {
      if (disposable.has(name)) await this.retire(name);
    }
  }

  /** One sample of a peer-process case: a server worker and a client worker of the transport. */
  async peerSample(name, job, timeoutMs) {
    const keys = [`${name}:server`, `${name}:client`];
    try {
      const server = this.send(keys[0], name, { ...job, role: 'server' }, timeoutMs);
      const { ready: port } = await server();
      const { sample } = await this.send(keys[1], name, { ...job, role: 'client', port }, timeoutMs)();
      if (!disposable.has(name)) await server(); // a disposable one's server may never see the end
      return sample;
    } finally {
      if (disposable.has(name)) for (const key of keys) await this.retire(key);
    }
  }

  closeAll() {
    for (const child of this.byName.values()) if (child.connected) child.disconnect(); // a killed one is gone already
  }
}

function takeSample(workers, transport, testCase, params, timeoutMs) {
  const { name, options } = typeof transport === 'string' ? { name: transport } : transport;
  const job = { scenario: testCase.scenario, params, options };
  if (testCase.peers) {
    if (isPeerProgram(name)) return runPeerProgram(name, testCase.scenario, params, timeoutMs);
    return workers.peerSample(name, job, timeoutMs);
  }
  if (name.startsWith('c-')) return runCLoop(name.slice(2), testCase.scenario, params, 1, timeoutMs)[0];
  return workers.sample(name, job, timeoutMs);
}

const applies = (transport, testCase) => {
  const name = typeof transport === 'string' ? transport : transport.name;
  return testCase.peers || !name.startsWith('c-') || cLoopSupports(testCase.scenario);
};

/**
 * Runs every case of `place`: [{ place, case, scenario, params, transport,
 * samples, error }]. A failing transport is recorded with its error (and
 * skipped for the remaining runs of that case); the rest go on.
 */
export async function runSuite(
  place,
  { quick = false, full = false, log = (line) => process.stderr.write(`${line}\n`), ...selection } = {},
) {
  // Guest time on the instruction clock jumps ahead whenever the vCPU idles,
  // e.g. while a program starts and reads its files through 9p: Python's
  // start alone can pass 20 s there, so --quick allows as long as a normal run.
  const timeoutMs = quick && !selection.icount ? 20_000 : full ? 900_000 : 120_000;
  const workers = new Workers();
  const results = [];
  try {
    for (const testCase of cases(place, { quick, full, ...selection })) {
      const started = Date.now();
      const rows = testCase.transports
        .filter((transport) => applies(transport, testCase))
        .map((transport) => ({
          transport,
          row: {
            place,
            case: testCase.id,
            scenario: testCase.scenario,
            params: testCase.params,
            transport: typeof transport === 'string' ? transport : transport.label,
            samples: [],
          },
        }));
      // Run 0 is a discarded warm-up (with the case's smaller `warmup` params
      // if it has them): JIT, and under TCG the translation of new code,
      // otherwise land in whichever transport meets a case first.
      for (let run = quick ? 1 : 0; run <= testCase.runs; run++) {
        const params = run === 0 ? { ...testCase.params, ...testCase.warmup } : testCase.params;
        for (const { transport, row } of rows) {
          if (row.error) continue;
          try {
            if (verbose) log(`[bench ${place}] ${testCase.id} / ${row.transport}: run ${run}...`);
            const sample = await takeSample(workers, transport, testCase, params, timeoutMs);
            if (verbose) log(`[bench ${place}] ${testCase.id} / ${row.transport}: run ${run}: ${sample.seconds} s`);
            if (run > 0) row.samples.push(sample);
          } catch (error) {
            row.error = String(error.message ?? error).split('\n')[0];
            log(`[bench ${place}] ${testCase.id} / ${row.transport}: FAILED: ${row.error}`);
          }
        }
      }
      log(`[bench ${place}] ${testCase.id}: ${testCase.runs} run(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      results.push(...rows.map(({ row }) => row));
    }
  } finally {
    workers.closeAll();
  }
  return results;
}

// Runs the cases of one place. Runs are interleaved (run 1 of every
// transport, then run 2, ...) so that load from other users of the machine
// spreads over all transports alike. Node transports each live in one forked
// worker (bench/worker.mjs); the C loop runs as a fresh process per sample.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cLoopSupports, runCLoop } from './c-loop.mjs';
import { cases } from './config.mjs';

const workerPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'worker.mjs');

class Workers {
  constructor() {
    this.byName = new Map();
  }

  get(name) {
    let child = this.byName.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      child = fork(workerPath, [name], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      // One listener each for the worker's life; the pending sample (if any) takes the outcome.
      child.on('message', (message) => child.settle?.(message));
      child.on('exit', (code, signal) => child.settle?.({ error: `worker exited (${signal ?? code})` }));
      this.byName.set(name, child);
    }
    return child;
  }

  /** One sample; a worker that times out or dies is killed and replaced next time. */
  async sample(name, job, timeoutMs) {
    const child = this.get(name);
    let timer;
    const result = await new Promise((resolve) => {
      child.settle = resolve;
      timer = setTimeout(() => resolve({ error: `timed out after ${timeoutMs / 1000} s` }), timeoutMs);
      child.send(job);
    });
    clearTimeout(timer);
    child.settle = undefined;
    if (result.error) {
      child.kill('SIGKILL');
      throw new Error(result.error);
    }
    return result.sample;
  }

  closeAll() {
    for (const child of this.byName.values()) child.disconnect?.();
  }
}

function takeSample(workers, transport, testCase, params, timeoutMs) {
  const { name, options } = typeof transport === 'string' ? { name: transport } : transport;
  if (name.startsWith('c-')) return runCLoop(name.slice(2), testCase.scenario, params, 1, timeoutMs)[0];
  return workers.sample(name, { scenario: testCase.scenario, params, options }, timeoutMs);
}

const applies = (transport, scenario) => {
  const name = typeof transport === 'string' ? transport : transport.name;
  return !name.startsWith('c-') || cLoopSupports(scenario);
};

/**
 * Runs every case of `place`: [{ place, case, scenario, params, transport,
 * samples, error }]. A failing transport is recorded with its error (and
 * skipped for the remaining runs of that case); the rest go on.
 */
export async function runSuite(place, { quick = false, full = false, log = (line) => process.stderr.write(`${line}\n`), ...selection } = {}) {
  const timeoutMs = quick ? 20_000 : full ? 900_000 : 120_000;
  const workers = new Workers();
  const results = [];
  try {
    for (const testCase of cases(place, { quick, full, ...selection })) {
      const started = Date.now();
      const rows = testCase.transports
        .filter((transport) => applies(transport, testCase.scenario))
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
            const sample = await takeSample(workers, transport, testCase, params, timeoutMs);
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

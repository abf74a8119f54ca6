// The C baseline (bench/c/vsock-loop.c): compiled at bench time with the
// system's cc into the git-ignored build/ dir, then run once per sample.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const source = join(root, 'bench', 'c', 'vsock-loop.c');
export const binary = join(root, 'build', 'bench', 'vsock-loop');

/** Compiles unless the binary is newer than the source (the guest only runs it). */
export function buildCLoop() {
  const fresh = (() => {
    try {
      return statSync(binary).mtimeMs >= statSync(source).mtimeMs;
    } catch {
      return false;
    }
  })();
  if (fresh) return;
  mkdirSync(dirname(binary), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', binary, source], { stdio: 'inherit' });
}

// Scenario parameters → the loop's argv (see the usage in its source).
const argv = {
  bulk: (p) => ['bulk', p.bytes, p.writeSize, p.direction],
  rtt: (p) => ['rtt', p.rounds, p.size],
  conn: (p) => ['conn', p.count, p.concurrency],
  streams: (p) => ['streams', p.count, p.bytesEach, p.writeSize],
};

export function cLoopSupports(scenario) {
  return scenario in argv;
}

/** `runs` samples of one scenario over 'vsock' (guest only) or 'pair'. */
export function runCLoop(kind, scenario, params, runs, timeoutMs) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(binary, [kind, ...argv[scenario](params).map(String)], {
      encoding: 'utf8',
      timeout: timeoutMs,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    samples.push(JSON.parse(out));
  }
  return samples;
}

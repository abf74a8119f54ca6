// The Worker-termination fixtures (test/fixtures/worker-*.js, on top of
// test/fixtures/worker-fds.js) report the process's descriptors before and
// after a terminated Worker as JSON { before, after, leaked }.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'vitest';

/** Runs `fixture` (a file in test/fixtures) in a child process: a clean exit, no output on stderr, no descriptor left behind. */
export function expectWorkerLeftNoFds(fixture: string, ...args: string[]): void {
  const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'fixtures', fixture), ...args], {
    encoding: 'utf8',
    // Longer when asked: the sanitizer run (test/sanitizers/asan.mjs) checks
    // every fixture's exit for leaks, which takes seconds under TCG.
    timeout: Number(process.env.HVSOCK_FIXTURE_TIMEOUT_MS) || 30_000,
  });
  expect(run.stderr).toBe('');
  expect({ status: run.status, signal: run.signal }).toEqual({ status: 0, signal: null });
  const { before, after, leaked } = JSON.parse(run.stdout);
  expect(leaked).toEqual([]);
  expect(after).toBe(before);
}

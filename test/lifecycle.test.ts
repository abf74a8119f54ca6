// Process-level behaviour, each case a child process running a fixture in
// the rig's guest: worker termination, exit with unref'd and open handles,
// throws in callbacks.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from './helpers/guest';
import { freshPort } from './helpers/streams';
import { expectWorkerLeftNoFds } from './helpers/worker-fixtures';

beforeAll(() => assertInTestGuest());

function runFixture(name: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', name), ...args], {
    encoding: 'utf8',
    // Longer when asked: the sanitizer run (test/sanitizers/asan.mjs) checks
    // every fixture's exit for leaks, which takes seconds under TCG.
    timeout: Number(process.env.HVSOCK_FIXTURE_TIMEOUT_MS) || 30_000,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

describe('process lifecycle', () => {
  it('a Worker terminated with busy and connecting sockets: no crash, no leaked fds', () => {
    expectWorkerLeftNoFds('worker-terminate.js', String(freshPort()));
  });

  it("exits on its own with an unref'd server, client and accepted socket", () => {
    const run = runFixture('exit-unref-server.js', String(freshPort()));
    expect(run).toMatchObject({ status: 0, signal: null, stdout: 'listening, unref\n', stderr: '' });
  });

  it('process.exit() with open, busy sockets is clean', () => {
    const run = runFixture('exit-open-sockets.js', String(freshPort()));
    expect(run).toMatchObject({ status: 3, signal: null, stderr: '' });
  });

  it.each(['connect', 'data'])('a throw in a %s listener surfaces as uncaughtException', (where) => {
    const run = runFixture('throw-in-callback.js', String(freshPort()), where);
    expect(run).toMatchObject({ status: 0, signal: null, stdout: `uncaught: thrown in ${where}\n` });
  });
});

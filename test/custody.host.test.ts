// Descriptor custody (native/addon_custody.h): an fd the addon made with
// socket() or accept() is the environment's until an owner takes it — a
// Poller that owns it, a Node handle (disown() just before handle.open), or
// close() — and the environment's teardown closes what is left, so a Worker
// terminated between two statements leaks nothing. socket() only: no vsock
// connect on the host.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binding, SOCKET_STREAM } from '../lib/binding';
import { expectWorkerLeftNoFds } from './helpers/worker-fixtures';

const native = binding();
const held = (): number => native.heldDescriptors!();

function newSocket(): number {
  const fd = native.socket(SOCKET_STREAM);
  expect(fd).toBeGreaterThanOrEqual(0);
  return fd;
}

describe('descriptor custody', () => {
  it('holds socket() fds until a Poller owns them, they are disowned, or closed', () => {
    const start = held();
    const polled = newSocket();
    expect(held()).toBe(start + 1);
    const poller = new native.Poller(polled, () => undefined, true);
    expect(held()).toBe(start);
    poller.close();

    const adopted = newSocket();
    native.disown!(adopted);
    expect(held()).toBe(start);
    expect(native.close(adopted)).toBe(0);

    const closed = newSocket();
    expect(native.close(closed)).toBe(0);
    expect(held()).toBe(start);

    // A Poller that does not own its fd leaves it held.
    const watched = newSocket();
    new native.Poller(watched, () => undefined, false).close();
    expect(held()).toBe(start + 1);
    expect(native.close(watched)).toBe(0);
    expect(held()).toBe(start);
  });

  it('Workers terminated while making Pollers and closing fds: no abort, no leaked or misdirected close', () => {
    const run = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'worker-terminate-native.js'), '40'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run).toMatchObject({ status: 0, signal: null });
    const { workers, before, after } = JSON.parse(run.stdout);
    expect(workers).toBe(40);
    expect(after).toBe(before);
  });

  it('a Worker terminated with fds no owner took yet leaks none', () => {
    expectWorkerLeftNoFds('worker-unowned-fds.js');
  });
});

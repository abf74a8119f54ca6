// The service examples (examples/) run as a user runs them, in the rig's
// guest over CID 1 loopback: the guest side and the host side as separate
// processes. Lean: each node start costs about a second under TCG.
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from './helpers/guest';
import { freshPort } from './helpers/streams';

const examples = path.join(__dirname, '..', 'examples');

beforeAll(() => assertInTestGuest());

/** Starts a long-running example; resolves once its stdout matches `ready`. */
function start(file: string, args: string[], ready: RegExp): Promise<{ stop: () => Promise<{ code: number | null; stdout: string; stderr: string }> }> {
  const child = spawn(process.execPath, [path.join(examples, file), ...args]);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (ready.test(stdout)) resolve({ stop: () => (child.kill('SIGTERM'), done) });
    });
    void done.then(() => reject(new Error(`${file} exited before ${ready}: ${stdout}${stderr}`)));
  });
}

describe('examples/agent: newline-delimited JSON guest agent and host client', () => {
  it('answers each request line with a response line, matched by id', async () => {
    const port = freshPort();
    const agent = await start('agent/guest-agent.js', [String(port)], /listening on vsock port \d+/);
    const client = spawnSync(process.execPath, [path.join(examples, 'agent', 'host-client.js'), '1', String(port), 'ping', 'echo', 'uptime', 'nope'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(client.stdout).toMatch(/^ping: "pong"\necho: \{"hello":"guest"\}\nuptime: [\d.]+\nnope: "unknown method \\"nope\\""\n$/);
    expect(client.status).toBe(1); // one request failed
    const stopped = await agent.stop();
    expect(stopped.stderr).toBe('');
  });
});

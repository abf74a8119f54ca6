// The service examples (examples/) run as a user runs them, in the rig's
// guest over CID 1 loopback: the guest side and the host side as separate
// processes. Lean: each node start costs about a second under TCG.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type * as net from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from './helpers/guest';
import { hvsock } from './helpers/hvsock';
import { freshPort, readAll } from './helpers/streams';

// The raw addon, to make a listener the way systemd does (socket, bind, listen).
const load = createRequire(__filename);
const native: import('../lib/binding').NativeBinding = load('../dist/binding.js').binding();
const { encodeEndpoint }: typeof import('../lib/address/index') = load('../dist/address/index.js');

const examples = path.join(__dirname, '..', 'examples');

beforeAll(() => assertInTestGuest());

type Example = {
  /** Resolves the output so far once stdout matches `pattern`. */
  waitFor: (pattern: RegExp) => Promise<string>;
  stop: () => Promise<{ code: number | null; stdout: string; stderr: string }>;
};

/**
 * Starts a long-running example; resolves once its stdout matches `ready`.
 * `fds` become the child's fds 3, 4, ...; `shell` runs it as
 * `sh -c shell node file args` (for an `exec` with a prepared environment).
 */
function start(
  file: string,
  args: string[],
  ready: RegExp,
  { fds = [], shell }: { fds?: number[]; shell?: string } = {},
): Promise<Example> {
  const command = [process.execPath, path.join(examples, file), ...args];
  const child = spawn(shell ? '/bin/sh' : command[0], shell ? ['-c', shell, ...command] : command.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe', ...fds],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  const waiters = new Set<() => boolean>();
  const waitFor = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => pattern.test(stdout) && (resolve(stdout), clearTimeout(timer), true);
      // Fail with what it printed, rather than at the test's timeout with nothing.
      const timer = setTimeout(() => reject(new Error(`${file}: no ${pattern} in 25 s: ${stdout}${stderr}`)), 25_000);
      if (check()) return;
      waiters.add(check);
      void done.then(() => reject(new Error(`${file} exited before ${pattern}: ${stdout}${stderr}`)));
    });
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
    for (const check of waiters) if (check()) waiters.delete(check);
  });
  return waitFor(ready).then(() => ({ waitFor, stop: () => (child.kill('SIGTERM'), done) }));
}

describe('examples/agent: newline-delimited JSON guest agent and host client', () => {
  it('answers each request line with a response line, matched by id', async () => {
    const port = freshPort();
    const agent = await start('agent/guest-agent.js', [String(port)], /listening on vsock port \d+/);
    const client = spawnSync(
      process.execPath,
      [path.join(examples, 'agent', 'host-client.js'), '1', String(port), 'ping', 'echo', 'uptime', 'nope'],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(client.stdout).toMatch(/^ping: "pong"\necho: \{"hello":"guest"\}\nuptime: [\d.]+\nnope: "unknown method \\"nope\\""\n$/);
    expect(client.status).toBe(1); // one request failed
    const stopped = await agent.stop();
    expect(stopped.stderr).toBe('');
  });
});

describe('examples/http: an http.Server in the guest, undici fetch on the host', () => {
  it('fetches /status and a 404 through the undici connector', async () => {
    const port = freshPort();
    const server = await start('http/guest-server.js', [String(port)], /listening on vsock port \d+/);
    const fetch = (url: string) =>
      spawnSync(process.execPath, [path.join(examples, 'http', 'host-fetch.js'), '1', String(port), url], {
        encoding: 'utf8',
        timeout: 30_000,
      });
    const status = fetch('/status');
    expect(status.stderr).toBe('');
    const [statusLine, body] = status.stdout.split('\n');
    expect(statusLine).toBe('200 OK');
    expect(JSON.parse(body)).toEqual({
      hostname: expect.any(String),
      uptime: expect.any(Number),
      peer: { cid: 1, port: expect.any(Number) },
    });
    expect(status.status).toBe(0);
    const missing = fetch('/nope');
    expect(missing.stdout).toBe('404 Not Found\nno GET /nope here\n');
    expect(missing.status).toBe(1);
    const stopped = await server.stop();
    expect(stopped.stderr).toBe('');
  });
});

describe('examples/reconnecting-agent.js: a guest agent that outlives its host service', () => {
  /** The host service: collects the lines it gets and answers "welcome". */
  async function hostService(port: number, lines: string[]) {
    const sockets = new Set<net.Socket>();
    const server = hvsock.createServer((socket) => {
      sockets.add(socket as net.Socket);
      createInterface({ input: socket }).on('line', (line) => lines.push(line));
      socket.write('welcome\n');
    });
    server.listen({ port });
    await once(server, 'listening');
    // Stopping the service: no more listener, and its connections end.
    return () => (server.close(), sockets.forEach((socket) => socket.end()));
  }

  it('retries while the service is down, reconnects and says hello again', async () => {
    const port = freshPort();
    const lines: string[] = [];
    const stopService = await hostService(port, lines);
    const agent = await start('reconnecting-agent.js', ['1', String(port)], /host says welcome/);
    stopService();
    let stopAgain = () => undefined as unknown;
    try {
      await agent.waitFor(/disconnected\n[^]*attempt 1 failed/);
      stopAgain = await hostService(port, lines);
      const output = await agent.waitFor(/connection 2\)\nreconnecting-agent: host says welcome\n/);
      expect(output).toMatch(
        /^reconnecting-agent: connected to vsock:\/\/1:\d+ \(connection 1\)\nreconnecting-agent: host says welcome\nreconnecting-agent: disconnected\n/,
      );
      // The service writes "welcome" on accept, before it has read the hello:
      // the agent can print it while the second hello is still in flight.
      await expect
        .poll(() => lines, { timeout: 10_000 })
        .toEqual([expect.stringMatching(/^hello from .* connection 1$/), expect.stringMatching(/^hello from .* connection 2$/)]);
    } finally {
      const stopped = await agent.stop();
      stopAgain();
      expect(stopped.stdout).toMatch(/reconnecting-agent: stopped\n$/);
      expect(stopped.stderr).toBe('');
    }
  });
});

describe('examples/systemd/agent.js: socket-activated the way systemd does it', () => {
  it('serves on the inherited vsock listener named "control"; without LISTEN_FDS it exits 1', async () => {
    const port = freshPort();
    const fd = native.socket(1);
    expect(native.bind(fd, encodeEndpoint({ cid: hvsock.Cid.ANY, port }))).toBe(0);
    expect(native.listen(fd, 16)).toBe(0);
    // As systemd: LISTEN_PID is the pid that runs node (sh execs it).
    const shell = 'LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=control exec "$0" "$@"';
    const agent = await start('systemd/agent.js', [], /serving fd 3 \(control\) on vsock port \d+/, { fds: [fd], shell });
    native.close(fd); // the agent holds its own copy
    const client = hvsock.connect({ cid: hvsock.Cid.LOCAL, port });
    client.end('ping\nhello\n');
    expect(String(await readAll(client))).toBe('pong\nhello\n');
    expect((await agent.stop()).stderr).toBe('');
    const alone = spawnSync(process.execPath, [path.join(examples, 'systemd', 'agent.js')], { encoding: 'utf8', timeout: 30_000 });
    expect(alone.stderr).toMatch(/^agent: not socket-activated/);
    expect(alone.status).toBe(1);
  });
});

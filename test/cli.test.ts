// The hvsock command (dist/cli.js) as users run it: real processes over real
// AF_VSOCK in the rig's guest, and interop with Debian's socat. Every node
// start costs about a second under TCG, so each test spawns few processes.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertInTestGuest } from './helpers/guest';
import { hvsock as client } from './helpers/hvsock';
import { freshPort } from './helpers/streams';

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
const SOCAT = '/usr/bin/socat';

beforeAll(() => assertInTestGuest());

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

function run(command: string, args: string[], input?: Buffer | string): { child: ChildProcessWithoutNullStreams; done: Promise<Finished> } {
  const child = spawn(command, args);
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  if (input !== undefined) child.stdin.end(input);
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(stdout), stderr })),
  );
  return { child, done };
}

const hvsock = (args: string[], input?: Buffer | string) => run(process.execPath, [cli, ...args], input);

/** Resolves once the child's stderr matches `pattern` (its first group, if any). */
function stderrMatch(child: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (match) {
        child.stderr.off('data', onData);
        resolve(match[1] ?? match[0]);
      }
    };
    child.stderr.on('data', onData);
    child.once('close', (code) => reject(new Error(`exited (${code}) before ${pattern}: ${seen}`)));
  });
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('hvsock echo / connect / ping', () => {
  const port = freshPort();
  let echo: ReturnType<typeof hvsock>;

  beforeAll(async () => {
    echo = hvsock(['echo', `vsock://any:${port}`]);
    await stderrMatch(echo.child, /echo listening on vsock:\/\/any:\d+/);
  });

  afterAll(async () => {
    echo.child.kill('SIGTERM');
    expect((await echo.done).code).toBe(0);
  });

  it('pipes a checksummed 1 MiB file through an echo server and exits 0', async () => {
    const payload = randomBytes(1024 * 1024);
    const result = await hvsock(['connect', `vsock://local:${port}`], payload).done;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(payload.length);
    expect(sha256(result.stdout)).toBe(sha256(payload));
  });

  it('ping reports round-trip statistics', async () => {
    const result = await hvsock(['ping', `hvsock://loopback/${port}`, '--count', '20']).done;
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(
      /^ping vsock:\/\/1:\d+: 20 × 64 bytes, round trip min [\d.]+ µs, median [\d.]+ µs, p99 [\d.]+ µs, max [\d.]+ µs\n$/,
    );
  });
});

describe('hvsock listen / connect', () => {
  it('carries data both ways and half-closes on EOF', async () => {
    const listen = hvsock(['listen', 'vsock://any:any'], 'from listen\n');
    const uri = await stderrMatch(listen.child, /listening on vsock:\/\/any:(\d+)/);
    const connect = hvsock(['connect', `vsock://1:${uri}`], 'from connect\n');
    const [listened, connected] = await Promise.all([listen.done, connect.done]);
    expect(listened).toMatchObject({ code: 0 });
    expect(connected).toMatchObject({ code: 0, stderr: '' });
    expect(listened.stdout.toString()).toBe('from connect\n');
    expect(connected.stdout.toString()).toBe('from listen\n');
    expect(listened.stderr).toMatch(/connection from vsock:\/\/1:\d+/);
  });

  it('fails a connect with nothing listening: one line, exit 1', async () => {
    const port = freshPort();
    const result = await hvsock(['connect', `vsock://1:${port}`], '').done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^hvsock: connect ECONNRESET vsock://1:${port} \\(.+\\)\\n$`));
  });
});

describe('hvsock listen -k / --exec, one-way modes, --retry', () => {
  it('listen -k --exec serves several connections at once, each with its own program', async () => {
    const listen = hvsock(['listen', 'vsock://any:any', '-k', '--exec', 'tr a-z A-Z']);
    const port = Number(await stderrMatch(listen.child, /listening on vsock:\/\/any:(\d+)/));
    const ask = async (text: string): Promise<string> => {
      const socket = client.connect({ cid: client.Cid.LOCAL, port });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.end(text);
      await once(socket, 'close');
      return Buffer.concat(chunks).toString();
    };
    expect(await Promise.all([ask('first'), ask('second'), ask('third')])).toEqual(['FIRST', 'SECOND', 'THIRD']);
    listen.child.kill('SIGTERM');
    const done = await listen.done;
    expect(done.code).toBe(0);
    expect(done.stderr.match(/connection from vsock:\/\/1:\d+/g)).toHaveLength(3);
  });

  it('connect --send-only into listen -k: stdin arrives, the sender exits 0 at its EOF', async () => {
    const listen = hvsock(['listen', 'vsock://any:any', '-k', '-v']);
    const port = await stderrMatch(listen.child, /listening on vsock:\/\/any:(\d+)/);
    const closed = stderrMatch(listen.child, /listen: vsock:\/\/1:\d+ closed/); // -v: after the peer's EOF, all read
    const payload = randomBytes(256 * 1024);
    const sent = await hvsock(['connect', `vsock://1:${port}`, '--send-only'], payload).done;
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    await closed;
    listen.child.kill('SIGTERM');
    const listened = await listen.done;
    expect(listened.code).toBe(0);
    expect(sha256(listened.stdout)).toBe(sha256(payload));
  });

  it('connect --retry waits for a listener that starts later; --recv-only never reads stdin', async () => {
    const port = freshPort();
    const connect = hvsock(['connect', `vsock://1:${port}`, '--retry', '40', '--recv-only', '-v']);
    await stderrMatch(connect.child, /ECONNRESET.*retrying in/);
    const listen = hvsock(['listen', `vsock://any:${port}`, '--send-only'], 'late but there\n');
    const [connected, listened] = await Promise.all([connect.done, listen.done]);
    expect(listened.code).toBe(0);
    expect(connected.code).toBe(0);
    expect(connected.stdout.toString()).toBe('late but there\n');
    expect(connected.stderr).toMatch(/connected to vsock:\/\/1:\d+/);
  });
});

describe('interop with socat', () => {
  beforeAll(() => {
    if (!existsSync(SOCAT)) throw new Error(`${SOCAT} is missing: test/vm/setup.mjs installs it (apt-get install socat)`);
  });

  it('hvsock connect talks to socat VSOCK-LISTEN', async () => {
    const port = freshPort();
    // -t: socat waits this long for the other direction after one ends (default 0.5 s: too short under TCG).
    const socat = run(SOCAT, ['-d', '-d', '-t', '30', `VSOCK-LISTEN:${port}`, 'STDIO'], 'from socat\n');
    await stderrMatch(socat.child, /listening on/);
    const connect = await hvsock(['connect', `vsock://1:${port}`], 'from hvsock\n').done;
    const listened = await socat.done;
    expect(connect).toMatchObject({ code: 0, stderr: '' });
    expect(connect.stdout.toString()).toBe('from socat\n');
    expect(listened.code).toBe(0);
    expect(listened.stdout.toString()).toBe('from hvsock\n');
  });

  it('socat VSOCK-CONNECT talks to hvsock listen', async () => {
    const listen = hvsock(['listen', 'vsock://any:any'], 'from hvsock\n');
    const port = await stderrMatch(listen.child, /listening on vsock:\/\/any:(\d+)/);
    const connected = await run(SOCAT, ['-t', '30', 'STDIO', `VSOCK-CONNECT:1:${port}`], 'from socat\n').done;
    const listened = await listen.done;
    expect(connected).toMatchObject({ code: 0 });
    expect(connected.stdout.toString()).toBe('from hvsock\n');
    expect(listened.code).toBe(0);
    expect(listened.stdout.toString()).toBe('from socat\n');
  });
});

describe('hvsock echo limits (--max-connections, --idle-timeout)', () => {
  it('closes connections past the limit on arrival, and idle ones after the timeout', async () => {
    const port = freshPort();
    const echo = hvsock(['echo', `vsock://any:${port}`, '--max-connections', '1', '--idle-timeout', '2']);
    await stderrMatch(echo.child, /echo listening on/);
    const first = client.connect({ cid: client.Cid.LOCAL, port });
    await once(first, 'connect');
    first.write('ping');
    expect(String((await once(first, 'data'))[0])).toBe('ping');
    const second = client.connect({ cid: client.Cid.LOCAL, port });
    second.on('error', () => undefined);
    second.resume();
    await once(second, 'close'); // past --max-connections 1: closed by the server at once
    expect(first.destroyed).toBe(false);
    first.resume();
    const noted = stderrMatch(echo.child, /idle for 2 s, closed/);
    const started = Date.now();
    await once(first, 'close'); // idle: closed after 2 s
    const idleMs = Date.now() - started;
    expect(idleMs).toBeGreaterThan(1500);
    expect(idleMs).toBeLessThan(20_000);
    await noted;
    echo.child.kill('SIGTERM');
    expect((await echo.done).code).toBe(0);
  });
});

describe('hvsock bench / sink / id and usage errors', () => {
  it('bench sends to a sink that confirms the byte count', async () => {
    const sink = hvsock(['sink', 'vsock://any:any']);
    const port = await stderrMatch(sink.child, /sink listening on vsock:\/\/any:(\d+)/);
    const bench = await hvsock(['bench', `vsock://1:${port}`, '--bytes', '4M']).done;
    sink.child.kill('SIGINT');
    expect(bench).toMatchObject({ code: 0, stderr: '' });
    expect(bench.stdout.toString()).toMatch(/^bench vsock:\/\/1:\d+: 4194304 bytes in [\d.]+ s, [\d.]+ MiB\/s\n$/);
    expect((await sink.done).code).toBe(0);
  });

  it('id prints the local CID and converts ports and service ids', async () => {
    const [cid, service, port] = await Promise.all([
      hvsock(['id']).done,
      hvsock(['id', '--port', '5000']).done,
      hvsock(['id', '--service-id', '{00001388-FACB-11E6-BD58-64006A7986D3}']).done,
    ]);
    expect(cid).toMatchObject({ code: 0, stderr: '' });
    expect(cid.stdout.toString()).toMatch(/^\d+\n$/);
    expect(service.stdout.toString()).toBe('00001388-facb-11e6-bd58-64006a7986d3\n');
    expect(port.stdout.toString()).toBe('5000\n');
  });

  it('usage errors exit 2 with one line', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /^usage: hvsock COMMAND/],
      [['frobnicate'], /^hvsock: unknown command "frobnicate" \(see hvsock --help\)\n$/],
      [['connect', 'tcp://1:2'], /^hvsock: connect: tcp:\/\/1:2 has scheme "tcp:" but must be .* \(see hvsock connect --help\)\n$/],
      [['ping', 'vsock://1:2', '--count', 'x'], /^hvsock: ping: --count must be an integer/],
      [['echo', 'vsock://any:2', '--max-connections', '0'], /^hvsock: echo: --max-connections must be an integer from 1/],
      [['sink', 'vsock://any:2', '--idle-timeout', '99999999'], /^hvsock: sink: --idle-timeout must be an integer from 0 to 86400/],
    ];
    const results = await Promise.all(cases.map(([args]) => hvsock(args).done));
    results.forEach((result, index) => {
      expect(result.code, cases[index][0].join(' ')).toBe(2);
      expect(result.stderr).toMatch(cases[index][1]);
      expect(result.stdout.length).toBe(0);
    });
  });
});

// The peers written in other languages, as programs with a server and a
// client role (same argv in each; see bench/c/vsock-loop.c):
//   <program> server <vsock|tcp> <port> <scenario> <args...>   prints "ready", serves, exits
//   <program> client <vsock|tcp> <port> <scenario> <args...>   prints one JSON sample
// C (cc), Go with mdlayher/vsock (Debian's golang-go and
// golang-github-mdlayher-vsock-dev: they build offline from
// /usr/share/gocode, no module download) and Python's socket module.
// Built on the host into the git-ignored build/bench/; the guest runs them
// from the shared project dir.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAptTool } from '../../scripts/lib/apt.mjs';
import { binary as cBinary } from './c-loop.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'build', 'bench');

const stale = (binary, source) => {
  try {
    return statSync(binary).mtimeMs < statSync(source).mtimeMs;
  } catch {
    return true;
  }
};

/** The Go peer's binary; installs Go and mdlayher/vsock from Debian when missing. */
export function buildGoPeer() {
  const source = join(root, 'bench', 'go', 'vsock-peer.go');
  const binary = join(out, 'go-vsock-peer');
  if (!stale(binary, source)) return binary;
  const go = ensureAptTool('go', 'golang-go');
  if (!existsGoVsock()) {
    process.stderr.write('[bench] installing golang-github-mdlayher-vsock-dev\n');
    execFileSync(
      'apt-get',
      ['install', '-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', 'golang-github-mdlayher-vsock-dev'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      },
    );
  }
  mkdirSync(out, { recursive: true });
  execFileSync(go, ['build', '-o', binary, source], {
    stdio: 'inherit',
    // GOPATH mode against Debian's packaged sources: no network, no go.mod.
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '', GOCACHE: join(out, 'go-cache') },
  });
  return binary;
}

function existsGoVsock() {
  try {
    return statSync('/usr/share/gocode/src/github.com/mdlayher/vsock/vsock.go').isFile();
  } catch {
    return false;
  }
}

const goBinary = join(out, 'go-vsock-peer');

/** Peer programs by transport name: [socket kind, argv]. */
const programs = {
  'c-vsock': ['vsock', [cBinary]],
  'c-tcp': ['tcp', [cBinary]],
  'go-vsock': ['vsock', [goBinary]],
  'py-vsock': ['vsock', () => [python(), join(root, 'bench', 'peer.py')]],
};

// The interpreter itself, asked once: a version manager's python3 shim
// (pyenv: a shell script starting more processes) costs seconds of guest
// time per start on the instruction clock, enough to hit --quick's timeout.
let interpreter;
const python = () => (interpreter ??= execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim());

export const isPeerProgram = (name) => name in programs;

const scenarioArgs = {
  bulk: (p) => [p.bytes, p.writeSize],
  rtt: (p) => [p.rounds, p.size],
  conn: (p) => [p.count],
};

// TCP ports stay below 65536; vsock ones are any 32-bit number.
let nextPort = 20000 + Math.floor(Math.random() * 20000);

/** Runs one end; resolves { ready, done }: ready once a server listens, done with its stdout JSON (client) or {}. */
function end(name, role, port, scenario, params, timeoutMs) {
  const [kind, argv] = programs[name];
  const [command, ...args] = typeof argv === 'function' ? argv() : argv;
  const child = spawn(command, [...args, role, kind, String(port), scenario, ...scenarioArgs[scenario](params).map(String)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let signalReady;
  const ready = new Promise((resolve) => (signalReady = resolve));
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    if (stdout.startsWith('ready\n')) signalReady();
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${name} ${role} ${scenario} failed (${signal ?? code}): ${stderr.trim()}`));
      resolve(role === 'client' ? JSON.parse(stdout) : {});
    });
  });
  return { ready: Promise.race([ready, done]), done, kill: () => child.kill('SIGKILL') };
}

/** One sample of a peer-process case: the server end started and listening, then the timed client end. */
export async function runPeerProgram(name, scenario, params, timeoutMs) {
  const port = ++nextPort;
  const server = end(name, 'server', port, scenario, params, timeoutMs);
  try {
    await server.ready;
    const sample = await end(name, 'client', port, scenario, params, timeoutMs).done;
    await server.done;
    return sample;
  } finally {
    server.kill();
  }
}

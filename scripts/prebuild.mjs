// Builds the prebuilt addons that `npm pack` ships in prebuilds/ (loaded by
// node-gyp-build, so users need no compiler): linux-x64 natively and
// linux-arm64 cross-compiled with Debian's aarch64 toolchain. Every output is
// checked with file(1) (ELF, right machine, stripped) and loaded: the x64 one
// by this Node, the arm64 one by the official arm64 Node from npm under
// qemu-user. The load check makes no vsock connection (test/pack/load-check.cjs).
//
// prebuildify runs node-gyp in a staging copy under .cache/prebuild/, so the
// developer's build/ (which node-gyp-build prefers) is left alone.
// usage: node scripts/prebuild.mjs [x64] [arm64]   (default: both)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arm64NodeCommand } from './lib/arm64-node.mjs';
import { ensureAptTool } from './lib/apt.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (message) => process.stderr.write(`[prebuild] ${message}\n`);

// Per target: the toolchain prefix (none = host), file(1)'s machine name, and
// whether its Node runs emulated here.
const TARGETS = {
  x64: { prefix: '', machine: 'x86-64' },
  arm64: { prefix: 'aarch64-linux-gnu-', machine: 'ARM aarch64', emulated: true },
};

function stage(arch) {
  const dir = path.join(root, '.cache', 'prebuild', arch);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of ['binding.gyp', 'package.json', 'native']) cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
  // binding.gyp asks node for node-addon-api's include dir from its cwd.
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function toolchainEnv(prefix) {
  if (!prefix) return {};
  ensureAptTool(`${prefix}g++`, 'g++-aarch64-linux-gnu');
  return {
    CC: `${prefix}gcc`,
    CXX: `${prefix}g++`,
    LINK: `${prefix}g++`,
    AR: `${prefix}ar`,
    PREBUILD_STRIP_BIN: `${prefix}strip`,
  };
}

// Where npm keeps its bundled node-gyp, for runs outside `npm run`.
function npmNodeGyp() {
  const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  return path.join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

function build(arch) {
  const { prefix } = TARGETS[arch];
  const env = { ...process.env, ...toolchainEnv(prefix) };
  // Headers come from the installed Node (~/.npmrc nodedir=/usr): nodejs.org
  // is not reachable from CI. npm passes it on as npm_config_nodedir.
  env.npm_config_nodedir ??= path.dirname(path.dirname(process.execPath));
  // node-gyp is npm's own copy (as for `npm run build:native`); npm names it.
  env.PREBUILD_NODE_GYP ??= env.npm_config_node_gyp ?? npmNodeGyp();
  const cwd = stage(arch);
  const started = Date.now();
  execFileSync(path.join(root, 'node_modules', '.bin', 'prebuildify'), ['--napi', '--strip', `--arch=${arch}`, `--out=${root}`], {
    cwd,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const dir = path.join(root, 'prebuilds', `linux-${arch}`);
  const files = readdirSync(dir).filter((name) => name.endsWith('.node'));
  if (files.length !== 1) throw new Error(`expected one .node file in ${dir}, found ${files.join(', ') || 'none'}`);
  const output = path.join(dir, files[0]);
  log(`linux-${arch}: built ${path.relative(root, output)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return output;
}

function checkFile(arch, file) {
  const description = execFileSync('file', ['-b', file], { encoding: 'utf8' }).trim();
  const { machine } = TARGETS[arch];
  const problems = [];
  if (!description.startsWith('ELF 64-bit LSB shared object')) problems.push('not a 64-bit ELF shared object');
  if (!description.includes(machine)) problems.push(`not ${machine}`);
  if (!/, stripped$/.test(description)) problems.push('not stripped');
  if (problems.length) throw new Error(`${file}: ${problems.join(', ')} (file: ${description})`);
  log(`linux-${arch}: ${description}`);
}

function loadCheck(arch, file) {
  const check = path.join(root, 'test', 'pack', 'load-check.cjs');
  const command = TARGETS[arch].emulated ? arm64NodeCommand(root) : [process.execPath];
  // PREBUILDS_ONLY: node-gyp-build must not pick the developer's build/.
  const started = Date.now();
  const result = spawnSync(command[0], [...command.slice(1), check, 'require', root], {
    env: { ...process.env, PREBUILDS_ONLY: '1', HVSOCK_ADDON_PATH: '' },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`linux-${arch} load check failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
  const report = JSON.parse(result.stdout.trim().split('\n').pop());
  if (report.arch !== arch) throw new Error(`load check ran as ${report.arch}, not ${arch}`);
  if (report.addons.length !== 1 || report.addons[0] !== file) {
    throw new Error(`linux-${arch}: the process mapped ${JSON.stringify(report.addons)}, not ${file}`);
  }
  if (report.serviceId !== '00001388-facb-11e6-bd58-64006a7986d3')
    throw new Error(`linux-${arch}: serviceIdFromPort(5000) = ${report.serviceId}`);
  log(
    `linux-${arch}: loaded under ${arch === process.arch ? 'this Node' : 'qemu-user'} in ${((Date.now() - started) / 1000).toFixed(1)} s: local CID ${report.localCid}, listened on port ${report.port}`,
  );
}

const wanted = process.argv.slice(2);
const arches = wanted.length ? wanted : Object.keys(TARGETS);
if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('prebuilds are made on linux-x64 (cross-compiling arm64)');
for (const arch of arches) {
  if (!TARGETS[arch]) throw new Error(`unknown target ${arch}; known: ${Object.keys(TARGETS).join(', ')}`);
  const file = build(arch);
  checkFile(arch, file);
  loadCheck(arch, file);
}
if (existsSync(path.join(root, '.cache', 'prebuild'))) rmSync(path.join(root, '.cache', 'prebuild'), { recursive: true, force: true });

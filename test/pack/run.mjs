// The tarball install test: what a user gets from `npm install hvsock`.
// 1. `npm pack`, and check what ships (dist/, prebuilds/, native sources,
//    build files, README) and what must not (tests, caches, local builds).
// 2. Install the tarball into a scratch project with no compiler on PATH
//    (PATH = a directory holding only node, npm, sh and python3), then load it with
//    require() and import() and assert that the mapped .node file is the
//    shipped prebuild; run the CLI's --help; load the arm64 prebuild with the
//    arm64 Node under qemu-user.
// 3. Prove the test can fail: the same tarball without the linux-x64
//    prebuild must fail to install there (node-gyp-build falls back to
//    compiling, and there is no compiler).
// No vsock connect anywhere (test/pack/load-check.cjs).
// usage: node test/pack/run.mjs   (after npm run prebuilds)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arm64NodeCommand } from '../../scripts/lib/arm64-node.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const EXPECTED_SERVICE_ID = '00001388-facb-11e6-bd58-64006a7986d3';

const log = (message) => process.stderr.write(`[pack] ${message}\n`);
let failures = 0;
function check(ok, message) {
  log(`${ok ? 'ok  ' : 'FAIL'} ${message}`);
  if (!ok) failures += 1;
}
function timed(label, fn) {
  const started = Date.now();
  const value = fn();
  log(`${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return value;
}

// Must ship / must not ship, by path inside the tarball.
const REQUIRED = [
  'package.json',
  'README.md',
  'LICENSE',
  'docs/api.md',
  'binding.gyp',
  'CMakeLists.txt',
  'dist/index.js',
  'dist/index.d.ts',
  'dist/cli.js',
  // The sources the source maps and the types' comments point at.
  'lib/index.ts',
  'native/addon.cc',
  'native/hvsock.h',
  'native/hvsock_linux.cc',
  'prebuilds/linux-x64/hvsock.node',
  'prebuilds/linux-arm64/hvsock.node',
  // The docs tell users to run the service examples from node_modules/hvsock/examples/.
  'examples/agent/guest-agent.js',
  'examples/agent/host-client.js',
  'examples/echo-server.js',
  'examples/http/guest-server.js',
  'examples/http/host-fetch.js',
  'examples/reconnecting-agent.js',
  'examples/systemd/agent.js',
  'examples/systemd/hvsock-agent.socket',
  'examples/systemd/hvsock-agent.service',
  'examples/windows/host-service.js',
];
// And every other prebuild made here (win32-x64 when its build ran).
const builtPrebuilds = () =>
  readdirSync(path.join(root, 'prebuilds')).flatMap((target) =>
    readdirSync(path.join(root, 'prebuilds', target))
      .filter((file) => file.endsWith('.node'))
      .map((file) => `prebuilds/${target}/${file}`),
  );
// examples/ ships, except the packaging smoke projects (test fixtures);
// lib/ ships (the sources the maps and the types' comments point at).
const FORBIDDEN = /^((test|bench|scripts|build|\.cache|node_modules)\/|examples\/smoke-)|\.test\.|^tsconfig|^vitest/;

function pack(into) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', into], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [info] = JSON.parse(out);
  const files = info.files.map((entry) => entry.path);
  for (const file of new Set([...REQUIRED, ...builtPrebuilds()])) check(files.includes(file), `tarball ships ${file}`);
  const unwanted = files.filter((file) => FORBIDDEN.test(file));
  check(unwanted.length === 0, `tarball ships no tests/caches/builds${unwanted.length ? `: ${unwanted.join(', ')}` : ''}`);
  log(`tarball: ${info.filename}, ${files.length} files, ${(info.size / 1024).toFixed(0)} KiB`);
  return path.join(into, info.filename);
}

// A PATH with node, npm, a shell and python3 only: no gcc, g++, cc, make.
// python3 is there so that node-gyp gets as far as the compiler step.
function compilerFreePath(dir) {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  for (const [name, target] of [
    ['node', process.execPath],
    ['npm', npmCli],
    ['sh', '/bin/sh'],
    ['python3', realpathSync('/usr/bin/python3')],
  ])
    symlinkSync(target, path.join(bin, name));
  for (const tool of ['gcc', 'g++', 'cc', 'c++', 'make']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { env: { PATH: bin }, encoding: 'utf8' });
    if (found.status === 0) throw new Error(`${tool} is reachable on the scratch PATH (${found.stdout.trim()})`);
  }
  return bin;
}

// npm's own variables from the outer `npm run` would leak its settings in.
function scratchEnv(bin) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'HVSOCK_ADDON_PATH'));
  return { ...env, PATH: bin, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
}

function scratchProject(dir, name) {
  const project = path.join(dir, name);
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  return project;
}

function install(project, tarball, env) {
  return spawnSync('npm', ['install', '--prefer-offline', '--no-package-lock', tarball], { cwd: project, env, encoding: 'utf8' });
}

function loadCheck(command, project, mode, env) {
  const script = path.join(project, 'load-check.cjs');
  cpSync(path.join(here, 'load-check.cjs'), script);
  const result = spawnSync(command[0], [...command.slice(1), script, mode, 'hvsock'], { cwd: project, env, encoding: 'utf8' });
  if (result.status !== 0) {
    check(false, `${mode}('hvsock') runs (exit ${result.status}): ${result.stderr}${result.stdout}`);
    return undefined;
  }
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

function expectPrebuild(report, project, arch, label) {
  if (!report) return;
  const expected = path.join(realpathSync(project), 'node_modules', 'hvsock', 'prebuilds', `linux-${arch}`, 'hvsock.node');
  check(
    report.arch === arch && report.addons.length === 1 && report.addons[0] === expected,
    `${label} maps ${path.relative(project, expected)} (mapped: ${report.addons.join(', ')})`,
  );
  check(report.serviceId === EXPECTED_SERVICE_ID, `${label}: serviceIdFromPort(5000) = ${report.serviceId}`);
  check(Number.isInteger(report.port), `${label}: listened on CID ANY, port ${report.port}`);
}

// The tarball minus the linux-x64 prebuild, for the negative control.
function withoutPrebuild(tarball, dir) {
  const unpacked = path.join(dir, 'unpacked');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
  rmSync(path.join(unpacked, 'package', 'prebuilds', 'linux-x64'), { recursive: true });
  const stripped = path.join(dir, 'hvsock-no-x64-prebuild.tgz');
  execFileSync('tar', ['-czf', stripped, '-C', unpacked, 'package']);
  return stripped;
}

for (const file of ['prebuilds/linux-x64/hvsock.node', 'prebuilds/linux-arm64/hvsock.node', 'dist/index.js']) {
  if (!existsSync(path.join(root, file))) throw new Error(`${file} is missing: run npm run prebuilds first`);
}
const dir = mkdtempSync(path.join(tmpdir(), 'hvsock-pack-'));
try {
  const tarball = timed('npm pack', () => pack(dir));
  const bin = compilerFreePath(dir);
  const env = scratchEnv(bin);
  log(`scratch PATH has only: node, npm, sh, python3 (${bin})`);

  const project = scratchProject(dir, 'scratch');
  const installed = timed('npm install <tarball> without a compiler', () => install(project, tarball, env));
  check(installed.status === 0, `the tarball installs with no compiler on PATH${installed.status ? `:\n${installed.stderr}` : ''}`);
  if (installed.status === 0) {
    for (const mode of ['require', 'import'])
      expectPrebuild(loadCheck([process.execPath], project, mode, env), project, 'x64', `${mode}('hvsock')`);
    const cli = spawnSync(path.join(project, 'node_modules', '.bin', 'hvsock'), ['--help'], { cwd: project, env, encoding: 'utf8' });
    check(cli.status === 0 && /hvsock/.test(cli.stdout), `the installed bin runs: hvsock --help (exit ${cli.status})`);
    const arm64 = timed('arm64 load check under qemu-user', () => loadCheck(arm64NodeCommand(root), project, 'require', env));
    expectPrebuild(arm64, project, 'arm64', "arm64 require('hvsock')");
  }

  const control = scratchProject(dir, 'control');
  const failed = timed('negative control install', () => install(control, withoutPrebuild(tarball, dir), env));
  const output = `${failed.stdout}${failed.stderr}`;
  check(
    failed.status !== 0 && /not found: make/.test(output),
    `without the prebuild the same install fails (needs a compiler): exit ${failed.status}, ${output.match(/gyp ERR! stack Error: [^\n]*/)?.[0] ?? 'no gyp error'}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failures) {
  log(`${failures} check(s) failed`);
  process.exit(1);
}
log('all checks passed');

// Inside the test guest: one vitest run per matrix entry, then the echo
// under the permission model on every Node. Argument: paths of extra nodes.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = process.cwd();
const extraNodes = process.argv.slice(2);
// The real-socket suites, minus the two 1 GiB transfers (minutes under TCG;
// the main run covers them).
const suites = [
  'test/socket.test.ts',
  'test/server.test.ts',
  'test/protocols/protocols.test.ts',
  'test/lifecycle.test.ts',
  'test/protocols/ecosystem.test.ts',
  'test/faults.test.ts',
  'test/linux/fd.test.ts',
  'test/retry.test.ts',
];
const skipBulk = ['-t', '^(?!.*1 GiB)'];

function withNode(binary, extraEnv = {}) {
  const env = { ...process.env, ...extraEnv };
  if (binary) env.PATH = `${path.dirname(binary)}:${env.PATH}`;
  return env;
}

function run(label, command, args, env) {
  process.stdout.write(`\n[matrix] ${label}\n`);
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  const ok = result.status === 0;
  process.stdout.write(`[matrix] ${label}: ${ok ? 'passed' : `FAILED (${result.status ?? result.signal})`}\n`);
  return ok;
}

const vitest = path.join(root, 'node_modules', '.bin', 'vitest');
const results = [];
for (const binary of extraNodes) {
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  results.push(run(`suites on Node ${version}`, vitest, ['run', ...suites, ...skipBulk], withNode(binary)));
}
results.push(
  run(`suites on Node ${process.version} with --pending-deprecation --throw-deprecation`, vitest, ['run', ...suites, ...skipBulk], {
    ...process.env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --pending-deprecation --throw-deprecation`.trim(),
  }),
);
for (const binary of [process.execPath, ...extraNodes]) {
  const major = Number(spawnSync(binary, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout);
  const permission = major >= 22 ? '--permission' : '--experimental-permission';
  results.push(
    run(
      `echo under ${permission} on Node ${major}`,
      binary,
      [permission, '--allow-addons', '--allow-fs-read=*', path.join(root, 'test', 'fixtures', 'permission-echo.js')],
      process.env,
    ),
  );
}
const failed = results.filter((ok) => !ok).length;
process.stdout.write(`\n[matrix] ${results.length - failed} passed, ${failed} failed\n`);
process.exit(failed ? 1 : 0);

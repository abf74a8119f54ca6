// npm run test:cmake: the socket and server suites against the cmake-js
// build (build-cmake/Release/hvsock.node, from npm run build:cmake), selected
// with HVSOCK_ADDON_PATH, in the rig's guest. First a host-side load check
// proves the override maps that very file. The two 1 GiB transfers are left
// out: they test the kernel path, not the build, and take minutes under TCG.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const addon = path.join(root, 'build-cmake', 'Release', 'hvsock.node');
if (!existsSync(addon)) throw new Error(`${addon} is missing: run npm run build:cmake first`);
const env = { ...process.env, HVSOCK_ADDON_PATH: addon };

const report = JSON.parse(
  execFileSync(process.execPath, [path.join(root, 'test', 'pack', 'load-check.cjs'), 'require', root], { env, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop(),
);
if (report.addons.length !== 1 || report.addons[0] !== addon) {
  throw new Error(`HVSOCK_ADDON_PATH did not take: the process mapped ${JSON.stringify(report.addons)}`);
}
process.stderr.write(`[cmake] host load check maps ${addon}\n`);

const vitest = path.join(root, 'node_modules', '.bin', 'vitest');
const args = ['test/vm/run.mjs', vitest, 'run', '--project', 'guest', 'test/socket.test.ts', 'test/server.test.ts', '-t', '^(?!.*1 GiB)'];
const result = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
process.exit(result.status ?? 1);

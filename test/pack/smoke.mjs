// npm run test:smoke: the module-format smoke packages in examples/smoke-*
// (CommonJS, ES module, TypeScript with tsc --noEmit at strict settings),
// each a tiny project depending on this package by `file:../..`, installed
// and run the way a user's project would be. They never connect a vsock
// socket (a listen on CID ANY at most), so they run on the host.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const examples = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');
const smokes = readdirSync(examples)
  .filter((name) => name.startsWith('smoke-'))
  .sort();
if (smokes.length === 0) throw new Error(`no examples/smoke-* packages in ${examples}`);

const log = (message) => process.stderr.write(`[smoke] ${message}\n`);
let failed = 0;
for (const name of smokes) {
  const cwd = path.join(examples, name);
  // --ignore-scripts: the link's own install/prepare scripts would rebuild
  // this checkout (tsc, node-gyp-build) once per smoke; test:smoke builds it
  // once first, and test:pack covers the install scripts.
  for (const args of [['install', '--no-package-lock', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], ['test']]) {
    const started = Date.now();
    const result = spawnSync('npm', args, { cwd, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (result.status !== 0) {
      log(`FAIL ${name}: npm ${args[0]} (exit ${result.status}, ${seconds} s)\n${result.stderr}`);
      failed += 1;
      break;
    }
    log(`ok   ${name}: npm ${args[0]} (${seconds} s)`);
  }
}
if (failed) process.exit(1);
log(`all ${smokes.length} smoke packages passed`);

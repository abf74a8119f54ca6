// npm run build:cmake: builds the addon with cmake-js from CMakeLists.txt into
// build-cmake/Release/hvsock.node (apart from node-gyp's build/, which
// node-gyp-build loads by default). Installs Debian's cmake when missing.
// Run the suites against it with HVSOCK_ADDON_PATH=<abs>/build-cmake/Release/hvsock.node.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAptTool } from './lib/apt.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
ensureAptTool('cmake', 'cmake');
// Node's headers from the installed Node, as node-gyp takes them (~/.npmrc
// nodedir=/usr, passed on by npm): nodejs.org is not reachable from CI.
const env = { ...process.env };
env.npm_config_nodedir ??= path.dirname(path.dirname(process.execPath));
const started = Date.now();
execFileSync(path.join(root, 'node_modules', '.bin', 'cmake-js'), ['compile', '--out', 'build-cmake', ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
});
const built = path.join(root, 'build-cmake', 'Release', 'hvsock.node');
process.stderr.write(`[cmake] built ${built} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

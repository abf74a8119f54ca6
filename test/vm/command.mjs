// The script the guest runs (as /run/hvsock/cmd.sh, under `env -i`): the host
// environment variables that matter, the working directory, then exec of the
// command, so its exit status is the script's.

const PASS = ['PATH', 'HOME', 'CI', 'NODE_OPTIONS', 'TERM', 'LANG', 'LC_ALL', 'TZ', 'FORCE_COLOR', 'NO_COLOR'];
const PASS_PREFIX = /^(HVSOCK_|VITEST_|npm_config_)/;

const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** argv as a shell would need it typed: for logs. */
export const shellWords = (argv) => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : q(a))).join(' ');

export function commandScript(argv, cwd, env, colour) {
  const vars = Object.entries(env).filter(([k, v]) => v !== undefined && /^\w+$/.test(k) && (PASS.includes(k) || PASS_PREFIX.test(k)));
  // Output reaches us through a virtio port, not a tty: keep colours if our own stdout is a terminal.
  if (colour && !('FORCE_COLOR' in env) && !('NO_COLOR' in env)) vars.push(['FORCE_COLOR', '1']);
  return [...vars.map(([k, v]) => `export ${k}=${q(v)}`), `cd ${q(cwd)} || exit 125`, `exec ${argv.map(q).join(' ')}`, ''].join('\n');
}

#!/usr/bin/env node
// `npm run test:valgrind`: memcheck over test/sanitizers/workload.js on the
// host (no vsock connect: stand-in AF_UNIX connections, pollers, vsock
// listeners, a terminated Worker) with the addon as it ships
// (build/Release). Under TCG in the guest Node alone takes minutes to start
// under valgrind; the stand-in runs the same addon and poller code.
//
// Node and V8 are not ours: memcheck's findings are read from its XML
// report and only those with a frame in hvsock.node count. The run fails on
// any such error (invalid read/write/free, uninitialised use, ...) and on
// any "definitely lost" block allocated under our frames; it prints the
// definitely-lost total split into ours and Node's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAptTool } from '../../scripts/lib/apt.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUR_OBJECT = /hvsock\.node$/;

/** memcheck's XML → [{ kind, bytes, ours, text }]. */
export function parseMemcheckXml(xml) {
  return [...xml.matchAll(/<error>([\s\S]*?)<\/error>/g)].map(([, body]) => {
    const kind = /<kind>(.*?)<\/kind>/.exec(body)?.[1] ?? '?';
    const bytes = Number(/<leakedbytes>(\d+)<\/leakedbytes>/.exec(body)?.[1] ?? 0);
    const frames = [...body.matchAll(/<frame>([\s\S]*?)<\/frame>/g)].map(([, f]) => ({
      obj: /<obj>(.*?)<\/obj>/.exec(f)?.[1] ?? '',
      fn: /<fn>(.*?)<\/fn>/.exec(f)?.[1] ?? '?',
      ip: /<ip>(.*?)<\/ip>/.exec(f)?.[1] ?? '',
    }));
    const ours = frames.some((f) => OUR_OBJECT.test(f.obj));
    const what = /<text>(.*?)<\/text>/.exec(body)?.[1] ?? /<what>(.*?)<\/what>/.exec(body)?.[1] ?? kind;
    const text = [what, ...frames.slice(0, 14).map((f) => `    ${f.ip} ${f.fn} (${f.obj})`)].join('\n');
    return { kind, bytes, ours, text };
  });
}

const valgrind = ensureAptTool('valgrind', 'valgrind'); // installs it (apt) when missing, as the rig does qemu
const dir = mkdtempSync(join(tmpdir(), 'hvsock-valgrind-'));
const xmlFile = join(dir, 'memcheck.xml');
const started = Date.now();
const run = spawnSync(
  valgrind,
  [
    '--tool=memcheck',
    '--leak-check=full',
    '--show-leak-kinds=definite',
    '--errors-for-leak-kinds=definite',
    '--num-callers=40',
    '--xml=yes',
    `--xml-file=${xmlFile}`,
    process.execPath,
    '--expose-gc',
    join(root, 'test', 'sanitizers', 'workload.js'),
  ],
  // HVSOCK_ADDON_PATH (lib/binding.ts) may point at another build to check.
  { cwd: root, stdio: 'inherit' },
);
if (run.error) {
  console.error(`[valgrind] could not run valgrind: ${run.error.message}`);
  process.exit(1);
}
const seconds = ((Date.now() - started) / 1000).toFixed(0);
const findings = parseMemcheckXml(readFileSync(xmlFile, 'utf8'));
rmSync(dir, { recursive: true, force: true });
const ours = findings.filter((f) => f.ours);
const definite = (list) => list.filter((f) => f.kind === 'Leak_DefinitelyLost');
const sum = (list) => list.reduce((n, f) => n + f.bytes, 0);
for (const f of ours) console.log(`\n[valgrind] ${f.kind} in our code:\n${f.text}`);
const oursLost = definite(ours);
const theirsLost = definite(findings.filter((f) => !f.ours));
console.log(
  `[valgrind] ${seconds}s; workload exit ${run.status}; ` +
    `definitely lost in hvsock.node: ${sum(oursLost)} bytes in ${oursLost.length} records; ` +
    `other errors in hvsock.node: ${ours.length - oursLost.length}; ` +
    `(Node/V8 outside our frames: ${sum(theirsLost)} bytes definitely lost, ${findings.length - ours.length - theirsLost.length} other reports, ignored)`,
);
process.exit(run.status === 0 && ours.length === 0 ? 0 : 1);

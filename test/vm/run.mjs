#!/usr/bin/env node
// Runs one command inside a throwaway QEMU guest with a real Linux kernel
// (AF_VSOCK + vsock_loopback), in the project dir at its host path, and exits
// with the command's exit code:   node test/vm/run.mjs <command> [args...]
//
// HVSOCK_VM_DEBUG=1 boots without `quiet`, times the guest's init steps and
// prints the guest console at the end.
//
// HVSOCK_VM_VHOST=1 (npm run test:vm-boundary) makes the guest a vsock host
// too (vhost_vsock, local CID 2) and tells the command, in HVSOCK_L2_*, what
// it needs to boot an inner guest with QEMU (test/boundary/l2.ts).
//
// Exit codes of the rig itself: 124 timeout (HVSOCK_VM_TIMEOUT seconds,
// default 900), 125 setup failed or the guest died without an exit code
// (panic, bad init), 128+N when we got signal N.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';
import { prepare, projectRoot, SetupError } from './setup.mjs';
import { commandScript, shellWords } from './command.mjs';
import { kernelCmdline, qemuArgs, tscKhz } from './qemu.mjs';

const log = (msg) => process.stderr.write(`[vm] ${msg}\n`);

const argv = process.argv.slice(2);
if (argv.length === 0) {
  log('usage: node test/vm/run.mjs <command> [args...]');
  process.exit(2);
}

let guest;
try {
  guest = prepare();
} catch (e) {
  log(`setup failed: ${e instanceof SetupError ? e.message : e.stack}`);
  process.exit(125);
}

const root = realpathSync(projectRoot);
const cwd = (() => {
  const here = realpathSync(process.cwd());
  const rel = relative(root, here);
  return rel.startsWith('..') || isAbsolute(rel) ? root : here;
})();

const accel = process.env.HVSOCK_VM_ACCEL === 'kvm' ? 'kvm' : 'tcg';
const debug = process.env.HVSOCK_VM_DEBUG === '1';
const vhost = process.env.HVSOCK_VM_VHOST === '1';
const khz = tscKhz();
if (!khz) log('warning: host TSC frequency unknown; the guest may hang at boot');
const env = !vhost
  ? process.env
  : {
      ...process.env,
      HVSOCK_L2_QEMU: guest.qemu,
      HVSOCK_L2_KERNEL: guest.vmlinux,
      HVSOCK_L2_INITRD: guest.l2Initramfs,
      HVSOCK_L2_TSC_KHZ: String(khz ?? ''),
    };

const runDir = mkdtempSync(join(tmpdir(), 'hvsock-vm-'));
const ctl = join(runDir, 'ctl');
mkdirSync(ctl);
writeFileSync(join(ctl, 'project'), root + '\n');
writeFileSync(join(ctl, 'cmd.sh'), commandScript(argv, cwd, env, process.stdout.isTTY));
const consoleLog = join(runDir, 'console.log');

log(`accel=${accel} kernel=${guest.kernelVersion} cmd=${shellWords(argv)}`);

/** A unix socket QEMU connects a virtio-serial port to; its bytes go to `sink`. */
function outputPort(name, sink) {
  const path = join(runDir, `${name}.sock`);
  const socks = [];
  let dead = false; // once our stdout/stderr is gone keep draining, or the guest blocks on a full port
  sink.on('error', () => {
    dead = true;
    for (const s of socks) s.resume();
  });
  const closed = [];
  const server = createServer((sock) => {
    socks.push(sock);
    closed.push(new Promise((res) => sock.on('close', res)));
    sock.on('error', () => {});
    sock.on('data', (d) => {
      if (dead) return;
      if (!sink.write(d)) {
        sock.pause();
        sink.once('drain', () => sock.resume());
      }
    });
  });
  const listening = new Promise((res, rej) => server.once('error', rej).listen(path, res));
  return { name, path, listening, done: () => Promise.all(closed).then(() => server.close()) };
}
const ports = [outputPort('out', process.stdout), outputPort('err', process.stderr)];
await Promise.all(ports.map((p) => p.listening));

const args = qemuArgs({
  accel,
  vmlinux: guest.vmlinux,
  initramfs: guest.initramfs,
  append: kernelCmdline({ khz, debug, vhost }),
  consoleLog,
  shares: { 'hvsock.ctl': { path: ctl }, 'hvsock.root': { path: '/', readonly: true }, 'hvsock.project': { path: root } },
  ports: Object.fromEntries(ports.map((p) => [`hvsock.${p.name}`, p.path])),
});

const qemu = spawn(guest.qemu, args, { stdio: ['ignore', 'ignore', 'pipe'] });
let qemuStderr = '';
qemu.stderr.on('data', (d) => {
  qemuStderr += d;
});

let failure; // why we stopped the guest ourselves: { code, message }
const stop = (code, message) => {
  failure ??= { code, message };
  qemu.kill('SIGKILL');
};
const timeoutS = Number(process.env.HVSOCK_VM_TIMEOUT) || 900;
const timer = setTimeout(() => stop(124, `timed out after ${timeoutS} s (HVSOCK_VM_TIMEOUT)`), timeoutS * 1000);
const onSignal = (sig, num) => stop(128 + num, `got ${sig}, killed the guest`);
process.on('SIGINT', () => onSignal('SIGINT', 2));
process.on('SIGTERM', () => onSignal('SIGTERM', 15));
process.on('SIGHUP', () => onSignal('SIGHUP', 1));

const [status, signal] = await new Promise((res) => {
  qemu.on('exit', (c, s) => res([c, s]));
  qemu.on('error', (e) => {
    failure ??= { code: 125, message: `cannot run ${guest.qemu}: ${e.message}` };
    res([null, null]);
  });
});
clearTimeout(timer);
await Promise.race([Promise.all(ports.map((p) => p.done())), new Promise((r) => setTimeout(r, 2000).unref())]);

const rcFile = join(ctl, 'rc');
const rc = existsSync(rcFile) ? Number.parseInt(readFileSync(rcFile, 'utf8'), 10) : NaN;
let exitCode = rc;
if (failure || !Number.isInteger(rc)) {
  const tail = existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8').split('\n').slice(-100).join('\n') : '(no console log)';
  log(failure?.message ?? `guest ended without an exit code (qemu ${signal ?? `exit ${status}`}): kernel panic or init failure?`);
  if (qemuStderr) log(`qemu stderr:\n${qemuStderr.trimEnd()}`);
  log(`guest console (last lines):\n${tail.trimEnd()}`);
  exitCode = failure?.code ?? 125;
}
if (debug && existsSync(consoleLog)) log(`guest console:\n${readFileSync(consoleLog, 'utf8').trimEnd()}`);
rmSync(runDir, { recursive: true, force: true });
process.exitCode = exitCode;

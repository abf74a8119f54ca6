// Boots the inner guest (L2) of the boundary suite from inside the test guest
// (L1), with the host's own QEMU (seen through L1's 9p root): the Debian
// kernel, the L2 initramfs from test/vm/setup.mjs, L1's root over 9p, and a
// vhost-vsock device, so L2 is CID 3 behind L1's vhost_vsock (L1 is CID 2).
// test/vm/run.mjs passes the paths in HVSOCK_L2_* when HVSOCK_VM_VHOST=1.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const L2_CID = 3;
const root = join(__dirname, '..', '..');
const script = join(root, 'test', 'fixtures', 'boundary', 'l2.sh');

/** The rig's environment, or an error that says how to get it. */
function rigEnv(): { qemu: string; kernel: string; initrd: string; khz: string } {
  const { HVSOCK_L2_QEMU: qemu, HVSOCK_L2_KERNEL: kernel, HVSOCK_L2_INITRD: initrd, HVSOCK_L2_TSC_KHZ: khz = '' } = process.env;
  if (!qemu || !kernel || !initrd) {
    throw new Error('the boundary suite boots its own inner guest: run it with `npm run test:vm-boundary` (no HVSOCK_L2_* here)');
  }
  return { qemu, kernel, initrd, khz };
}

export interface L2 {
  process: ChildProcess;
  /** Date.now() at spawn. */
  startedAt: number;
  /** Resolves once QEMU has exited. */
  exited: Promise<void>;
  /** The guest console so far (kernel and init messages, the guest's own output), plus QEMU's stderr. */
  console(): string;
}

/**
 * Boots L2: 'node' runs test/fixtures/boundary/guest.js (through l2.sh, in
 * L1's root over 9p); 'peer' only the static C peer from its initramfs
 * (test/vm/l2-peer.c: an echo on 9000, a hello to the host's port 7001).
 */
export function bootL2(mode: 'node' | 'peer'): L2 {
  const env = rigEnv();
  const consoleLog = join(mkdtempSync(join(tmpdir(), 'hvsock-l2-')), 'console.log');
  const append = [
    'console=ttyS0',
    'quiet',
    'panic=-1',
    ...(env.khz ? [`tsc_early_khz=${env.khz}`, 'tsc=reliable'] : []),
    'cryptomgr.notests',
    'hvsock.testguest=1', // guest.js and our own guard look for it
    `hvsock.l2script=${script}`,
    `hvsock.l2mode=${mode}`,
  ].join(' ');
  const args = [
    '-M',
    'microvm',
    '-accel',
    'tcg',
    '-cpu',
    'max',
    '-smp',
    '1',
    '-m',
    '768',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-kernel',
    env.kernel,
    '-initrd',
    env.initrd,
    '-append',
    append,
    '-serial',
    `file:${consoleLog}`,
    '-fsdev',
    'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
    '-device',
    'virtio-9p-device,fsdev=hostroot,mount_tag=hostroot',
    '-device',
    `vhost-vsock-device,guest-cid=${L2_CID}`,
  ];
  const child = spawn(env.qemu, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    startedAt: Date.now(),
    exited,
    console: () =>
      (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '(no console log yet)') + (stderr ? `\n[qemu stderr]\n${stderr}` : ''),
  };
}

/** `promise`, or a rejection after `ms` naming what we waited for, with L2's console. */
export function within<T>(promise: Promise<T>, ms: number, what: string, l2?: L2): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const tail = l2 ? `\nL2 console (last 40 lines):\n${l2.console().split('\n').slice(-40).join('\n')}` : '';
      reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}${tail}`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

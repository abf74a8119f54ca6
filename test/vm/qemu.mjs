// The guest machine: QEMU command line and kernel command line. microvm has
// no PCI, so every device is virtio-mmio (virtio-9p-device, virtio-serial-device).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Host TSC in kHz: without tsc_early_khz the microvm guest sometimes hangs calibrating against the PIT. */
export function tscKhz() {
  const d = spawnSync('dmesg', [], { encoding: 'utf8' }).stdout ?? '';
  const mhz =
    [...d.matchAll(/tsc: (?:Refined TSC clocksource calibration|Detected):? ([\d.]+) MHz/g)].pop()?.[1] ??
    /^cpu MHz\s*:\s*([\d.]+)/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  return mhz ? Math.round(Number(mhz) * 1000) : undefined;
}

export function kernelCmdline({ khz, debug, vhost = false }) {
  return [
    'console=ttyS0',
    debug ? 'loglevel=7' : 'quiet',
    'panic=-1', // with -no-reboot a panic ends QEMU instead of hanging
    ...(khz ? [`tsc_early_khz=${khz}`, 'tsc=reliable'] : []),
    'cryptomgr.notests', // the crypto self-tests cost ~0.9 s of a 2.5 s boot under TCG
    'hvsock.testguest=1', // the marker test/helpers/guest.ts looks for
    ...(debug ? ['hvsock.debug=1'] : []),
    ...(vhost ? ['hvsock.vhost=1'] : []), // guest-init.sh loads vhost_vsock
    // Extra kernel parameters for experiments (e.g. mitigations=off).
    ...(process.env.HVSOCK_VM_APPEND ?? '').split(/\s+/).filter(Boolean),
  ].join(' ');
}

/**
 * @param {{ accel: 'tcg'|'kvm', vmlinux: string, initramfs: string, append: string, consoleLog: string,
 *   shares: Record<string, { path: string, readonly?: boolean }>, ports: Record<string, string> }} m
 *   shares: 9p mount tag -> host dir; ports: virtio-serial port name -> unix socket we listen on
 */
export function qemuArgs(m) {
  const opt = (v) => v.replace(/,/g, ',,'); // QEMU's escape for commas inside an option value
  return [
    '-M',
    'microvm',
    '-accel',
    m.accel,
    '-cpu',
    m.accel === 'kvm' ? 'host' : 'max',
    '-smp',
    '2',
    '-m',
    '4096',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    // The uncompressed ELF vmlinux boots through its PVH entry: no decompression under TCG.
    '-kernel',
    m.vmlinux,
    '-initrd',
    m.initramfs,
    '-append',
    m.append,
    '-serial',
    `file:${m.consoleLog}`,
    ...Object.entries(m.shares).flatMap(([tag, s]) => [
      '-fsdev',
      `local,id=${tag},path=${opt(s.path)},security_model=none,multidevs=remap${s.readonly ? ',readonly=on' : ''}`,
      '-device',
      `virtio-9p-device,fsdev=${tag},mount_tag=${tag}`,
    ]),
    '-device',
    'virtio-serial-device',
    ...Object.entries(m.ports).flatMap(([name, sock], i) => [
      '-chardev',
      `socket,id=port${i},path=${opt(sock)}`, // QEMU connects to us at startup
      '-device',
      `virtserialport,chardev=port${i},name=${name}`,
    ]),
    ...icountArgs(m.accel),
  ];
}

/**
 * HVSOCK_VM_ICOUNT=1 (the benchmarks' guest mode): one vCPU on QEMU's
 * instruction clock, 1 ns of guest time per executed instruction and idle
 * time skipped, so timings inside are deterministic instruction counts.
 * The later -smp overrides the one above; with two vCPUs icount hangs at boot.
 */
function icountArgs(accel) {
  if (process.env.HVSOCK_VM_ICOUNT !== '1' || accel !== 'tcg') return [];
  return ['-smp', '1', '-icount', 'shift=0,sleep=off,align=off'];
}

// Linux discovery: which vsock transports this kernel has (getLocalCid()'s
// companion), and the WSL2 VM id from inside a WSL guest.
import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import { binding } from '../binding';
import { commandTimeout, decodeOutput, runCommand, type CommandRunner } from '../command';
import { discoveryError, HvsockError } from '../errors';
import { getLocalCid } from './local';

/** The vsock transports Linux has, by the module that provides each. */
export const TRANSPORT_MODULES = Object.freeze({
  /** Guest on Hyper-V / WSL2 (VMBus). */
  hyperv: 'hv_sock',
  /** Guest on QEMU/KVM, Firecracker, cloud-hypervisor. */
  virtio: 'vmw_vsock_virtio_transport',
  /** VMware, guest and host. */
  vmci: 'vmw_vsock_vmci_transport',
  /** Host side of virtio guests. */
  vhost: 'vhost_vsock',
  /** CID 1 inside this kernel. */
  loopback: 'vsock_loopback',
} as const);

/** The name of a vsock transport: a key of TRANSPORT_MODULES. */
export type TransportName = keyof typeof TRANSPORT_MODULES;

// What a registered transport leaves in sysfs whether it is a module or built
// in (a built-in module without parameters has no /sys/module entry): its
// bus driver or misc device, as `<bus or class>/<name>`.
const REGISTERED_AS: Readonly<Record<string, string>> = {
  vsock: 'misc/vsock', // /dev/vsock
  hv_sock: 'vmbus/hv_sock',
  vmw_vsock_virtio_transport: 'virtio/vmw_vsock_virtio_transport',
  vhost_vsock: 'misc/vhost-vsock',
};

/** A vsock transport this kernel has. */
export interface TransportEntry {
  /** Which transport. */
  name: TransportName;
  /** Its kernel module, e.g. vmw_vsock_virtio_transport. */
  module: string;
  /** 'loaded' (a module in /proc/modules) or 'builtin' (compiled into the kernel). */
  state: 'loaded' | 'builtin';
}

/** What getTransportInfo() found out about this kernel. */
export interface TransportInfo {
  /** AF_VSOCK itself (the vsock core) is present. */
  vsock: boolean;
  /** This machine's CID (/dev/vsock), or undefined when there is none. */
  localCid: number | undefined;
  /** The transports found, in TRANSPORT_MODULES order. */
  transports: TransportEntry[];
  /**
   * The guest-to-host transport: how this machine reaches its host (CID 2).
   * The kernel uses one; with several present it is the first registered,
   * which module load order decides.
   */
  guest: 'hyperv' | 'virtio' | 'vmci' | undefined;
  /** Whether this machine can talk to its own guests (vhost or VMCI). */
  host: boolean;
  /** Whether CID 1 (local loopback) works. */
  loopback: boolean;
}

/** What the kernel says, as read from /proc and /sys (or recorded, in tests). */
export interface KernelModuleSources {
  /** /proc/modules, or undefined where the kernel has no module support. */
  procModules?: string;
  /** Names under /sys/module (built-in modules with parameters appear here too). */
  sysModules: readonly string[];
  /** /lib/modules/$(uname -r)/modules.builtin, when readable. */
  modulesBuiltin?: string;
  /** Drivers and devices as `virtio/<driver>`, `vmbus/<driver>`, `misc/<device>` (see REGISTERED_AS). */
  registered?: readonly string[];
}

function moduleName(path: string): string {
  const base = path.trim().split('/').pop() ?? '';
  return base.replace(/\.ko(\.[a-z]+)?$/, '').replace(/-/g, '_');
}

/** The pure part of getTransportInfo(): transports from recorded kernel facts. */
export function transportsFrom(sources: KernelModuleSources): { vsock: boolean; transports: TransportEntry[] } {
  const loaded = new Set(
    (sources.procModules ?? '')
      .split('\n')
      .map((line) => line.split(' ')[0])
      .filter(Boolean),
  );
  const builtin = new Set((sources.modulesBuiltin ?? '').split('\n').filter(Boolean).map(moduleName));
  // A /sys/module entry or a registered driver that is not a loaded module is built in.
  for (const name of sources.sysModules) if (!loaded.has(name)) builtin.add(name);
  const registered = new Set(sources.registered ?? []);
  for (const [module, entry] of Object.entries(REGISTERED_AS)) {
    if (registered.has(entry) && !loaded.has(module)) builtin.add(module);
  }
  const state = (module: string): TransportEntry['state'] | undefined =>
    loaded.has(module) ? 'loaded' : builtin.has(module) ? 'builtin' : undefined;
  const transports: TransportEntry[] = [];
  for (const [name, module] of Object.entries(TRANSPORT_MODULES) as [TransportName, string][]) {
    const found = state(module);
    if (found) transports.push({ name, module, state: found });
  }
  return { vsock: state('vsock') !== undefined || transports.length > 0, transports };
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function list(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return []; // no sysfs, or no such bus here
  }
}

function kernelSources(): KernelModuleSources {
  const registered = [
    ...list('/sys/bus/virtio/drivers').map((name) => `virtio/${name}`),
    ...list('/sys/bus/vmbus/drivers').map((name) => `vmbus/${name}`),
    ...list('/sys/class/misc').map((name) => `misc/${name}`),
  ];
  return {
    procModules: readOptional('/proc/modules'),
    sysModules: list('/sys/module'),
    modulesBuiltin: readOptional(`/lib/modules/${os.release()}/modules.builtin`),
    registered,
  };
}

/**
 * Which vsock transports this Linux kernel has (Hyper-V hv_sock, virtio,
 * VMCI, vhost, loopback), loaded as modules or built in, plus the local CID.
 * A module that is neither loaded nor listed as built in counts as absent
 * (it may still be auto-loaded on first use). Linux only.
 *
 * @returns The transports found, this machine's CID, and which of them reaches the host.
 * @throws HvsockError `ERR_HVSOCK_UNSUPPORTED_PLATFORM` off Linux.
 * @example
 * ```js
 * const info = hvsock.getTransportInfo();
 * if (!info.vsock) console.log('no vsock here: load the module or run in a VM');
 * ```
 */
export function getTransportInfo(): TransportInfo {
  if (binding().constants.platform !== 'linux') {
    throw new HvsockError('ERR_HVSOCK_UNSUPPORTED_PLATFORM', 'getTransportInfo() describes Linux vsock transports');
  }
  const { vsock, transports } = transportsFrom(kernelSources());
  let localCid: number | undefined;
  try {
    localCid = getLocalCid();
  } catch {
    localCid = undefined; // no /dev/vsock
  }
  const has = (name: TransportName): boolean => transports.some((t) => t.name === name);
  const guest = (['hyperv', 'virtio', 'vmci'] as const).find(has);
  return { vsock, localCid, transports, guest, host: has('vhost') || has('vmci'), loopback: has('loopback') };
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The VM id in `wslinfo --vm-id` output (braces or not), lowercase; throws when there is none. */
export function parseWslVmId(output: string): string {
  const match = GUID.exec(output);
  if (!match) throw discoveryError(`wslinfo --vm-id printed no VM id: ${JSON.stringify(output.slice(0, 100))}`);
  return match[0].toLowerCase();
}

/** Options of getWslVmId(). */
export interface WslVmIdOptions {
  /** ms before giving up on wslinfo (default 5000). */
  timeout?: number;
}

/**
 * Inside a WSL2 guest: the VM id of the WSL utility VM, from `wslinfo
 * --vm-id` (WSL 2.x). A host-side server must listen on exactly this VM id
 * (WILDCARD/CHILDREN never see WSL2 connections); it changes on every WSL
 * boot. Rejects with ERR_HVSOCK_DISCOVERY when wslinfo is missing (not WSL,
 * or too old), fails or times out; with ERR_HVSOCK_UNSUPPORTED_PLATFORM on Windows.
 */
export function getWslVmId(options?: WslVmIdOptions): Promise<string>;
/** @internal Tests pass a scripted command runner. */
export function getWslVmId(options: WslVmIdOptions, run: CommandRunner): Promise<string>;
export async function getWslVmId(options: WslVmIdOptions = {}, run: CommandRunner = runCommand): Promise<string> {
  // wslinfo is a Linux program of WSL guests; on Windows a bare name would
  // also be looked for in the current directory.
  if (process.platform === 'win32') {
    throw new HvsockError(
      'ERR_HVSOCK_UNSUPPORTED_PLATFORM',
      'getWslVmId() runs inside a WSL2 guest (Linux); on the Windows host see listComputeSystems()',
    );
  }
  const timeout = commandTimeout(options.timeout, 5000);
  const { stdout } = await run('wslinfo', ['--vm-id'], timeout);
  return parseWslVmId(decodeOutput(stdout));
}

// Windows host discovery: the VMs a server could accept from (Get-VM through
// PowerShell; hcsdiag for compute systems Get-VM does not show, such as
// WSL2's utility VM), and a once-per-process warning, on request, for
// servers listening on WILDCARD/CHILDREN while WSL2 runs — WSL2 connections
// reach only a listener bound to its exact VM id. The tools run from the
// system directory (lib/win/system.ts), never by bare name; listen() runs
// none of them.
import { VmId } from '../address/index';
import { commandTimeout, decodeOutput, runCommand, type CommandRunner } from '../command';
import { discoveryError, HvsockError } from '../errors';
import { systemTool } from './system';

// The default runner: the tool by its absolute path under System32.
// Injected runners (tests) get the bare name.
const runSystemTool: CommandRunner = (file, args, timeout) => runCommand(systemTool(file), args, timeout);

const GUID = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;

function canonicalGuid(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = GUID.exec(value.trim());
  return match ? match[1].toLowerCase() : undefined;
}

/** A Hyper-V VM as Get-VM reports it. */
export interface VmInfo {
  /** The VM id (lowercase GUID): the vmId to listen on or connect to. */
  id: string;
  /** The VM's display name in Hyper-V Manager. */
  name: string;
  /** 'Running', 'Off', 'Saved', ... (Microsoft.HyperV.PowerShell.VMState names). */
  state: string;
}

// VMState values, for PowerShell versions that serialize the enum as a number.
const VM_STATES: Readonly<Record<number, string>> = {
  1: 'Other',
  2: 'Running',
  3: 'Off',
  4: 'Stopping',
  6: 'Saved',
  9: 'Paused',
  10: 'Starting',
  11: 'Reset',
  32773: 'Saving',
  32776: 'Pausing',
  32777: 'Resuming',
  32779: 'FastSaved',
  32780: 'FastSaving',
  32781: 'ForceShutdown',
  32782: 'ForceReboot',
  32783: 'Hibernated',
  32784: 'ComponentServicing',
  32785: 'RunningCritical',
  32786: 'OffCritical',
  32787: 'StoppingCritical',
  32788: 'SavedCritical',
  32789: 'PausedCritical',
  32790: 'StartingCritical',
  32791: 'ResetCritical',
  32792: 'SavingCritical',
  32793: 'PausingCritical',
  32794: 'ResumingCritical',
  32795: 'FastSavedCritical',
  32796: 'FastSavingCritical',
};

function stateName(value: unknown): string {
  if (typeof value === 'number') return VM_STATES[value] ?? `Unknown(${value})`;
  if (typeof value === 'string' && value.trim()) return value.trim();
  return 'Unknown';
}

/**
 * Parses `Get-VM | Select-Object Id,Name,State | ConvertTo-Json`: an array,
 * a single object (ConvertTo-Json unwraps one-element arrays), or nothing
 * (no VMs). Entries without a valid GUID id are skipped; output that is not
 * JSON throws ERR_HVSOCK_DISCOVERY.
 */
export function parseGetVmJson(text: string): VmInfo[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    throw discoveryError(`Get-VM output is not JSON: ${JSON.stringify(trimmed.slice(0, 100))}`, error);
  }
  if (parsed === null) return [];
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const vms: VmInfo[] = [];
  for (const item of items) {
    if (item === null || typeof item !== 'object') continue;
    const record = item as Record<string, unknown>;
    // Id as a string, or as a serialized System.Guid ({ Guid: "..." }) on some hosts.
    const rawId = record.Id ?? record.VMId;
    const id = canonicalGuid(rawId) ?? canonicalGuid((rawId as { Guid?: unknown } | null)?.Guid);
    if (!id) continue;
    vms.push({ id, name: typeof record.Name === 'string' ? record.Name : '', state: stateName(record.State) });
  }
  return vms;
}

/** A compute system as `hcsdiag list` reports it (VMs, containers, WSL2's utility VM). */
export interface ComputeSystem {
  /** The compute system id (lowercase GUID); for a VM, its VM id. */
  id: string;
  /** 'VM', 'Container', ... */
  type: string;
  /** 'Running', 'Stopped', ... as hcsdiag prints it. */
  state: string;
  /** Who made it: 'WSL' for WSL2, a VM's owner service otherwise. */
  owner: string;
}

/**
 * Parses `hcsdiag list`: for each system a line with its id, then an
 * indented `Type, State, Id, Owner` line. Lines that do not fit are skipped.
 */
export function parseHcsdiagList(text: string): ComputeSystem[] {
  const systems: ComputeSystem[] = [];
  for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const fields = line.split(',').map((field) => field.trim());
    if (fields.length < 4) continue;
    const id = canonicalGuid(fields[2]);
    if (!id || !fields[0]) continue;
    systems.push({ id, type: fields[0], state: fields[1], owner: fields.slice(3).join(',') });
  }
  return systems;
}

/** Names of running WSL distributions from `wsl.exe --list --running --quiet` (UTF-16LE). */
export function parseWslRunning(output: Buffer): string[] {
  return decodeOutput(output)
    .split(/\r?\n/)
    .map((line) => line.replace(/\0/g, '').trim())
    .filter(Boolean);
}

/** Options of the Windows-host discovery helpers. */
export interface DiscoveryOptions {
  /** ms before giving up on the tool (default 15000: PowerShell starts slowly). */
  timeout?: number;
}

function requireWindows(what: string): void {
  if (process.platform !== 'win32') {
    throw new HvsockError('ERR_HVSOCK_UNSUPPORTED_PLATFORM', `${what} runs on a Windows host`);
  }
}

// Strings, not enums/GUID objects, whatever the PowerShell version; -Compress for one line.
const GET_VM_SCRIPT =
  "Get-VM | Select-Object @{n='Id';e={$_.Id.ToString()}},Name,@{n='State';e={$_.State.ToString()}} | ConvertTo-Json -Compress";

/**
 * Windows host: Hyper-V VMs with id, name and state (Get-VM; needs the
 * Hyper-V PowerShell module and membership in Hyper-V Administrators or
 * admin rights). Rejects with ERR_HVSOCK_DISCOVERY when PowerShell fails.
 * WSL2's utility VM is not a Get-VM VM: see listComputeSystems().
 */
export function listVms(options?: DiscoveryOptions): Promise<VmInfo[]>;
/** @internal Tests pass a scripted command runner. */
export function listVms(options: DiscoveryOptions, run: CommandRunner): Promise<VmInfo[]>;
export async function listVms(options: DiscoveryOptions = {}, run: CommandRunner = runSystemTool): Promise<VmInfo[]> {
  requireWindows('listVms()');
  const timeout = commandTimeout(options.timeout, 15_000);
  const { stdout } = await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', GET_VM_SCRIPT], timeout);
  return parseGetVmJson(decodeOutput(stdout));
}

/** Windows host: all HCS compute systems (`hcsdiag list`, admin), including WSL2's VM (owner 'WSL'). */
export function listComputeSystems(options?: DiscoveryOptions): Promise<ComputeSystem[]>;
/** @internal Tests pass a scripted command runner. */
export function listComputeSystems(options: DiscoveryOptions, run: CommandRunner): Promise<ComputeSystem[]>;
export async function listComputeSystems(options: DiscoveryOptions = {}, run: CommandRunner = runSystemTool): Promise<ComputeSystem[]> {
  requireWindows('listComputeSystems()');
  const timeout = commandTimeout(options.timeout, 15_000);
  const { stdout } = await run('hcsdiag.exe', ['list'], timeout);
  return parseHcsdiagList(decodeOutput(stdout));
}

let wslWarning: Promise<boolean> | undefined;

/**
 * Windows host, on request (listen() does not call it: it would start a
 * process per server): when `vmId` is WILDCARD or CHILDREN and WSL2
 * distributions are running, emit one process warning (code
 * HVSOCK_WSL_WILDCARD) saying WSL2 will not reach this listener. At most
 * once per process (System32\wsl.exe runs once); never rejects. Resolves
 * whether it warned.
 */
export function warnIfWslMissesWildcard(vmId: string): Promise<boolean>;
/** @internal Tests pass a scripted command runner. */
export function warnIfWslMissesWildcard(vmId: string, run: CommandRunner): Promise<boolean>;
export function warnIfWslMissesWildcard(vmId: string, run: CommandRunner = runSystemTool): Promise<boolean> {
  const id = canonicalGuid(vmId);
  if (process.platform !== 'win32' || (id !== VmId.WILDCARD && id !== VmId.CHILDREN)) return Promise.resolve(false);
  wslWarning ??= wslRunning(run).then((running) => {
    if (running.length === 0) return false;
    process.emitWarning(
      `hvsock: listening on ${id === VmId.WILDCARD ? 'WILDCARD' : 'CHILDREN'}, but WSL2 connections ` +
        `(running: ${running.join(', ')}) reach only a listener bound to the WSL VM id; ` +
        'get it inside WSL with `wslinfo --vm-id` (or `wsl.exe -- wslinfo --vm-id`) and listen on it. It changes on every WSL boot.',
      { code: 'HVSOCK_WSL_WILDCARD', type: 'HvsockWarning' },
    );
    return true;
  });
  return wslWarning;
}

async function wslRunning(run: CommandRunner): Promise<string[]> {
  try {
    const { stdout } = await run('wsl.exe', ['--list', '--running', '--quiet'], 10_000);
    return parseWslRunning(stdout);
  } catch {
    return []; // no WSL, or none running (wsl.exe exits non-zero then)
  }
}

/** Test-only: forget that the warning was considered. */
export function resetWslWarningForTesting(): void {
  wslWarning = undefined;
}

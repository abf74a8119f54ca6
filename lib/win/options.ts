// Hyper-V socket options (level HV_PROTOCOL_RAW): typed options of connect()
// and listen() on Windows, validated here before any socket exists.
import { HvsockError, invalidArgType, outOfRange } from '../errors';
import type { AppliedFailure, HyperVSettings } from '../settings';
import { binding } from '../binding';

export type { HyperVSettings } from '../settings';

/** HVSOCKET_* option names (hvsocket.h; HIGH_VTL is missing from mingw's copy). */
const HvOption = Object.freeze({ CONNECT_TIMEOUT: 1, CONTAINER_PASSTHRU: 2, CONNECTED_SUSPEND: 4, HIGH_VTL: 8 });

/** HVSOCKET_CONNECT_TIMEOUT_MAX, in ms. */
export const MAX_CONNECT_TIMEOUT_MS = 300_000;

const WINDOWS_ONLY = ['connectedSuspend', 'containerPassthru', 'highVtl'] as const;
const LINUX_ONLY = ['bufferSize', 'bufferMinSize', 'bufferMaxSize'] as const;

function unsupported(name: string, option: string, platform: string): HvsockError {
  return new HvsockError(
    'ERR_HVSOCK_UNSUPPORTED_PLATFORM',
    `${name}.${option} is a ${platform} option (not supported on ${process.platform})`,
  );
}

/** Linux side: Windows-only options are an error, not silently ignored. */
export function rejectWindowsOnly(options: object, name: string): void {
  for (const option of WINDOWS_ONLY) {
    if ((options as Record<string, unknown>)[option] !== undefined) throw unsupported(name, option, 'Windows (AF_HYPERV)');
  }
}

export interface HyperVConnectSettings extends HyperVSettings {
  connectTimeout?: number;
}

function flag(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw invalidArgType(name, 'of type boolean', value);
}

/** Validates the Windows options in `options`; `connect` admits connectTimeout. */
export function pickHyperVSettings(options: object, connect: boolean, name = 'options'): HyperVConnectSettings {
  const given = options as Record<string, unknown>;
  for (const option of LINUX_ONLY) {
    if (given[option] !== undefined) throw unsupported(name, option, 'Linux (AF_VSOCK)');
  }
  const settings: HyperVConnectSettings = {
    connectedSuspend: flag(given.connectedSuspend, `${name}.connectedSuspend`),
    containerPassthru: flag(given.containerPassthru, `${name}.containerPassthru`),
    highVtl: flag(given.highVtl, `${name}.highVtl`),
  };
  const timeout = given.connectTimeout;
  if (connect && timeout !== undefined) {
    if (typeof timeout !== 'number') throw invalidArgType(`${name}.connectTimeout`, 'of type number', timeout);
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_CONNECT_TIMEOUT_MS) {
      throw outOfRange(`${name}.connectTimeout`, `an integer >= 1 and <= ${MAX_CONNECT_TIMEOUT_MS}`, timeout);
    }
    settings.connectTimeout = timeout;
  }
  return settings;
}

/** Applies settings to `fd`; returns the first failure, if any. */
export function applyHyperVSettings(fd: number, settings: HyperVConnectSettings): AppliedFailure | undefined {
  const native = binding();
  const steps: Array<[number, number | undefined]> = [
    [HvOption.CONNECT_TIMEOUT, settings.connectTimeout],
    [HvOption.CONTAINER_PASSTHRU, settings.containerPassthru === undefined ? undefined : Number(settings.containerPassthru)],
    [HvOption.CONNECTED_SUSPEND, settings.connectedSuspend === undefined ? undefined : Number(settings.connectedSuspend)],
    [HvOption.HIGH_VTL, settings.highVtl === undefined ? undefined : Number(settings.highVtl)],
  ];
  for (const [option, value] of steps) {
    if (value === undefined) continue;
    const status = native.setOption(fd, option, value);
    if (status < 0) return { status, syscall: 'setsockopt' };
  }
  return undefined;
}

/** The connect timeout as Windows holds it, in ms (undefined when unreadable). */
export function readConnectTimeout(fd: number): number | undefined {
  const value = binding().getOption(fd, HvOption.CONNECT_TIMEOUT);
  return typeof value === 'number' && value >= 0 ? value : undefined; // a DWORD: never a bigint
}

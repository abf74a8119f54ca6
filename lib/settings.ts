// Socket options that callers pass to connect() and listen(): validated here,
// applied to a descriptor before it connects or binds.
import { binding, VsockOption } from './binding';
import { invalidArgType, outOfRange } from './errors';
import { pickHyperVSettings, rejectWindowsOnly, type HyperVSettings } from './win/options';

/**
 * Per-socket tuning, for connect() and listen()/createServer(). The buffer
 * options are Linux-only; the HyperVSettings ones Windows-only (lib/win/options.ts).
 */
export interface SocketSettings extends HyperVSettings {
  /**
   * Receive buffer of a vsock connection in bytes (SO_VM_SOCKETS_BUFFER_SIZE;
   * kernel default 256 KiB). Larger buffers move more per round trip. The
   * min/max bounds are widened when needed. Accepted sockets inherit the
   * listener's value.
   */
  bufferSize?: number;
  /** SO_VM_SOCKETS_BUFFER_MIN_SIZE. */
  bufferMinSize?: number;
  /** SO_VM_SOCKETS_BUFFER_MAX_SIZE. */
  bufferMaxSize?: number;
}

/** connect() only: how long the kernel waits for the peer, in ms. */
export interface ConnectSettings extends SocketSettings {
  /**
   * Connect timeout in milliseconds (SO_VM_SOCKETS_CONNECT_TIMEOUT; kernel
   * default 2000). Ends the attempt with ETIMEDOUT. Not to be confused with
   * `timeout`, which is net's idle timeout. Windows: HVSOCKET_CONNECT_TIMEOUT,
   * at most 300000.
   */
  connectTimeout?: number;
}

const MAX_BUFFER = 0xffffffff;
const MAX_TIMEOUT_MS = 0x7fffffff;

function positiveInteger(value: unknown, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw outOfRange(name, `an integer >= 1 and <= ${max}`, value);
  }
  return value;
}

/** Validates the buffer settings in `options` (throws typed errors). */
export function pickSocketSettings(options: SocketSettings, name = 'options'): SocketSettings {
  if (process.platform === 'win32') return pickHyperVSettings(options, false, name); // AF_HYPERV options
  rejectWindowsOnly(options, name);
  return {
    bufferSize: positiveInteger(options.bufferSize, `${name}.bufferSize`, MAX_BUFFER),
    bufferMinSize: positiveInteger(options.bufferMinSize, `${name}.bufferMinSize`, MAX_BUFFER),
    bufferMaxSize: positiveInteger(options.bufferMaxSize, `${name}.bufferMaxSize`, MAX_BUFFER),
  };
}

/** Validates buffer settings plus connectTimeout. */
export function pickConnectSettings(options: ConnectSettings, name = 'options'): ConnectSettings {
  return {
    ...pickSocketSettings(options, name),
    connectTimeout: positiveInteger(options.connectTimeout, `${name}.connectTimeout`, MAX_TIMEOUT_MS),
  };
}

export interface AppliedFailure {
  status: number;
  syscall: 'setsockopt';
}

/** Applies settings to `fd`; returns the first failure, if any. */
export function applySettings(fd: number, settings: ConnectSettings): AppliedFailure | undefined {
  const native = binding();
  const steps: Array<() => number> = [];
  const { bufferSize, bufferMinSize, bufferMaxSize, connectTimeout } = settings;
  if (bufferMaxSize !== undefined) steps.push(() => native.setOption(fd, VsockOption.BUFFER_MAX_SIZE, bufferMaxSize));
  if (bufferMinSize !== undefined) steps.push(() => native.setOption(fd, VsockOption.BUFFER_MIN_SIZE, bufferMinSize));
  if (bufferSize !== undefined) {
    // The kernel clamps the size into [min, max]: widen the bounds the
    // caller did not set so the requested size is what takes effect.
    if (bufferMaxSize === undefined) {
      steps.push(() => {
        const max = native.getOption(fd, VsockOption.BUFFER_MAX_SIZE);
        if (typeof max === 'bigint') return 0; // past 2^53: above any size we set
        return max >= 0 && max < bufferSize ? native.setOption(fd, VsockOption.BUFFER_MAX_SIZE, bufferSize) : Math.min(max, 0);
      });
    }
    if (bufferMinSize === undefined) {
      steps.push(() => {
        const min = native.getOption(fd, VsockOption.BUFFER_MIN_SIZE);
        if (typeof min === 'bigint' || min > bufferSize) return native.setOption(fd, VsockOption.BUFFER_MIN_SIZE, bufferSize);
        return Math.min(min, 0);
      });
    }
    steps.push(() => native.setOption(fd, VsockOption.BUFFER_SIZE, bufferSize));
  }
  if (connectTimeout !== undefined) steps.push(() => native.setConnectTimeout(fd, connectTimeout));
  for (const step of steps) {
    const status = step();
    if (status < 0) return { status, syscall: 'setsockopt' };
  }
  return undefined;
}

/** `value` without its undefined entries, so spreading it over defaults keeps them. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

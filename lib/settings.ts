// Socket options that callers pass to connect() and listen(): their types,
// the Linux buffer checks, and applying them to a descriptor before it
// connects or binds. A leaf: the platform choice (which checks run) is
// lib/options.ts's, the Windows checks lib/win/options.ts's.
import { binding, VsockOption } from './binding';
import { invalidArgType, outOfRange } from './errors';

/** Options only Windows (AF_HYPERV) has. */
export interface HyperVSettings {
  /** HVSOCKET_CONNECTED_SUSPEND: keep the connection across a VM suspend/resume. */
  connectedSuspend?: boolean;
  /** HVSOCKET_CONTAINER_PASSTHRU: let a container's socket reach the VM / host directly. */
  containerPassthru?: boolean;
  /** HVSOCKET_HIGH_VTL: talk to the high virtual trust level of the partition. */
  highVtl?: boolean;
}

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

/** Validates the Linux buffer settings in `options` (throws typed errors). */
export function pickBufferSettings(options: SocketSettings, name: string): SocketSettings {
  return {
    bufferSize: positiveInteger(options.bufferSize, `${name}.bufferSize`, MAX_BUFFER),
    bufferMinSize: positiveInteger(options.bufferMinSize, `${name}.bufferMinSize`, MAX_BUFFER),
    bufferMaxSize: positiveInteger(options.bufferMaxSize, `${name}.bufferMaxSize`, MAX_BUFFER),
  };
}

/** Validates connectTimeout (Linux: SO_VM_SOCKETS_CONNECT_TIMEOUT, in ms). */
export function pickConnectTimeout(options: ConnectSettings, name: string): number | undefined {
  return positiveInteger(options.connectTimeout, `${name}.connectTimeout`, MAX_TIMEOUT_MS);
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

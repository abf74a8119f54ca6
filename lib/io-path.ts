// Which I/O path a socket or server runs on:
//   'handle': the fd is adopted into Node's own Pipe/TCP handle (net.Socket,
//             net.Server; fastest, native TLS). Rests on Node internals.
//   'poll':   a uv_poll watcher on the fd plus non-blocking read/writev from
//             the addon, exposed as a stream.Duplex (lib/linux/poll/stream.ts).
//             Linux only.
//   'overlapped': Windows only, and its default: the addon's own completion
//             port (overlapped WSARecv/WSASend with a send loop), exposed as
//             a stream.Duplex (lib/win/overlapped.ts). A name of its own, not
//             'poll': it is completion-based, not readiness-based, and the
//             two have different failure modes worth telling apart in a
//             report. On Windows 'handle' (uv_tcp_open) risks losing bytes
//             silently on real Hyper-V: libuv ignores partial WSASend
//             completions (see lib/win/overlapped.ts).
// Chosen per call by the `io` option, else by HVSOCK_IO in the environment,
// else 'overlapped' on Windows, else 'handle' when adoption works here
// (feature detection, never a Node version check) and 'poll' when it does not.
import { binding } from './binding';
import { HvsockError, invalidArgValue } from './errors';
import { canAdopt } from './handle/handles';

/**
 * How a socket moves its bytes: 'handle' (adopted into Node's own handle: a
 * real net.Socket), 'poll' (Linux: a uv_poll-driven Duplex) or 'overlapped'
 * (Windows, the default there: hvsock's own completion port).
 */
export type IoPath = 'handle' | 'poll' | 'overlapped';

const PATHS: readonly IoPath[] = ['handle', 'poll', 'overlapped'];
let warnedAbout: string | undefined;

function fromEnvironment(): IoPath | undefined {
  const value = process.env.HVSOCK_IO;
  if (value === undefined || value === '') return undefined;
  if ((PATHS as readonly string[]).includes(value)) return value as IoPath;
  // A bad variable must not break every connect of a program that did not
  // ask for it: say so once and use the default.
  if (warnedAbout !== value) {
    warnedAbout = value;
    process.emitWarning(`HVSOCK_IO=${value} is not one of ${PATHS.join(', ')}; ignored`, { code: 'HVSOCK_IO' });
  }
  return undefined;
}

/** True when this platform's addon has the poll path's data calls. */
export function canPoll(): boolean {
  const native = binding();
  return typeof native.read === 'function' && typeof native.writev === 'function';
}

/** True when this platform's addon has the Windows overlapped path. */
export function canOverlap(): boolean {
  return typeof (binding() as { win?: { Overlapped?: unknown } }).win?.Overlapped === 'function';
}

/**
 * Validates an `io` option (throws ERR_INVALID_ARG_VALUE) and resolves the
 * path to use. An explicit 'poll' where the addon has no poll path throws
 * ERR_HVSOCK_UNSUPPORTED_PLATFORM.
 */
export function pickIoPath(value: unknown, name = 'options.io'): IoPath {
  if (value !== undefined && !(PATHS as readonly unknown[]).includes(value)) {
    throw invalidArgValue(name, value, `must be one of ${PATHS.map((p) => `'${p}'`).join(', ')}`);
  }
  const chosen = (value as IoPath | undefined) ?? fromEnvironment();
  if (chosen === 'poll' && !canPoll()) {
    throw new HvsockError('ERR_HVSOCK_UNSUPPORTED_PLATFORM', `io: 'poll' is not available on ${process.platform} yet`);
  }
  if (chosen === 'overlapped' && process.platform !== 'win32') {
    throw new HvsockError('ERR_HVSOCK_UNSUPPORTED_PLATFORM', "io: 'overlapped' is the Windows (AF_HYPERV) I/O path");
  }
  if (chosen !== undefined) return chosen;
  try {
    if (process.platform === 'win32' && canOverlap()) return 'overlapped';
    return canAdopt() || !canPoll() ? 'handle' : 'poll';
  } catch {
    // No loadable addon (e.g. a macOS host): hybrid vsock endpoints need
    // none; a vsock address reports the load error when it uses the addon.
    return 'handle';
  }
}

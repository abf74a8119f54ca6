// How the client commands (connect, ping, bench) reach their peer:
// --connect-timeout bounds the whole wait, --retry tries again while the
// error means "nobody there yet" (a server still starting, a VM booting).
// The retries are a loop of fresh connects here rather than connect()'s
// `retry` option, so they work the same on every I/O path and for hybrid
// vsock.
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, isRetryableConnectError, type ParsedAddress } from '../index';
import { CliError, detail, EXIT_USAGE, formatSeconds, until, type Command, type Options, type Values } from './common';

type ClientSocket = ReturnType<typeof connect>;

/** The options every client command takes. */
export const CLIENT_OPTIONS: Options = {
  'connect-timeout': { type: 'string', short: 'w' },
  retry: { type: 'string', short: 'r' },
};

/** Usage lines for CLIENT_OPTIONS. */
export const CLIENT_USAGE = `
  -w, --connect-timeout S   give up connecting after S seconds, retries included
                            (decimals allowed; default: the transport's own
                            wait, 2 s on Linux vsock, 10 s for hybrid vsock)
  -r, --retry N             try again up to N times (backoff from 0.1 s to 5 s)
                            while nothing listens yet (reset, refused, timed out,
                            no such VM yet)
`;

const MAX_TIMEOUT_S = 86_400;
const MAX_KERNEL_TIMEOUT_MS = 300_000; // Windows' HVSOCKET_CONNECT_TIMEOUT limit

function secondsOption(command: Command, values: Values, name: string): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const value = typeof text === 'string' && /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(value > 0 && value <= MAX_TIMEOUT_S)) {
    throw new CliError(
      `${command.name}: --${name} must be seconds above 0 and up to ${MAX_TIMEOUT_S}, got ${JSON.stringify(text)} (see hvsock ${command.name} --help)`,
      EXIT_USAGE,
    );
  }
  return value;
}

function retriesOption(command: Command, values: Values): number {
  const text = values.retry;
  if (text === undefined) return 0;
  const value = typeof text === 'string' && /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 0 && value <= 1_000_000)) {
    throw new CliError(
      `${command.name}: --retry must be a number of retries from 0 to 1000000, got ${JSON.stringify(text)} (see hvsock ${command.name} --help)`,
      EXIT_USAGE,
    );
  }
  return value;
}

/** Connects as the command line says; resolves once connected. */
export async function connectClient(
  command: Command,
  values: Values,
  address: ParsedAddress,
  text: string,
  options: { allowHalfOpen?: boolean } = {},
): Promise<ClientSocket> {
  const timeout = secondsOption(command, values, 'connect-timeout');
  const retries = retriesOption(command, values);
  const deadline = timeout === undefined ? Infinity : Date.now() + timeout * 1000;
  const timedOut = (): CliError =>
    new CliError(`${command.name}: no connection to ${text} within ${formatSeconds(timeout!)} s (--connect-timeout)`);
  for (let attempt = 0; ; attempt += 1) {
    const left = deadline - Date.now();
    if (left <= 0) throw timedOut();
    // The transport's own wait is stretched (or shortened) to what is left.
    const connectTimeout = Number.isFinite(left) ? Math.max(1, Math.min(Math.ceil(left), MAX_KERNEL_TIMEOUT_MS)) : undefined;
    detail(`${command.name}: connecting to ${text}${attempt > 0 ? ` (retry ${attempt} of ${retries})` : ''}`);
    const socket = connect({ ...address, ...options, ...(connectTimeout !== undefined && { connectTimeout }) } as Parameters<
      typeof connect
    >[0]) as ClientSocket;
    const timer = Number.isFinite(left) ? setTimeout(() => socket.destroy(timedOut()), left) : undefined;
    try {
      await until(socket, 'connect');
      detail(`${command.name}: connected to ${text}`);
      return socket;
    } catch (error) {
      socket.destroy();
      if (error instanceof CliError || attempt >= retries || !isRetryableConnectError(error as { code?: unknown; syscall?: unknown }))
        throw error;
      const delay = Math.min(100 * 2 ** attempt, 5000, Math.max(0, deadline - Date.now()));
      detail(`${command.name}: ${(error as Error).message}; retrying in ${formatSeconds(delay / 1000)} s`);
      await sleep(delay);
    } finally {
      clearTimeout(timer);
    }
  }
}

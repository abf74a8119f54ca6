// What every command shares: argument parsing with --help, -v and -q,
// addresses from the command line, and one-line errors with socat-like exit
// codes (1 runtime failure, 2 usage).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { checkAddress, Cid, formatAddress, parseAddress, type ParsedAddress } from '../index';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the CLI reports as `hvsock: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  name: string;
  /** One line for `hvsock --help`. */
  summary: string;
  /** The usage text of `hvsock <name> --help`. */
  usage: string;
  options: Options;
  /** Resolves with the exit code once the command is done. */
  run(values: Values, positionals: string[]): Promise<number>;
}

const usageError = (command: Command, message: string): CliError =>
  new CliError(`${command.name}: ${message} (see hvsock ${command.name} --help)`, EXIT_USAGE);

/** -q: errors only; default: status lines; -v: also what happens step by step. */
let verbosity = 1;

/** The options every command takes besides its own (-h is parseCommandLine's). */
export const GLOBAL_OPTIONS: Options = {
  verbose: { type: 'boolean', short: 'v' },
  quiet: { type: 'boolean', short: 'q' },
};

/** Usage lines for GLOBAL_OPTIONS, printed under every command's own. */
export const GLOBAL_USAGE = `
  -v, --verbose         also print each step (connecting, retries, closes) on stderr
  -q, --quiet           print nothing on stderr but errors
  -h, --help            this text
`;

/** Sets the verbosity from -v / -q (the last one given wins where both are). */
export function setVerbosity(values: Values): void {
  if (values.quiet) verbosity = 0;
  if (values.verbose) verbosity = 2;
}

/** Parses a command's arguments; undefined when --help was asked for (and printed). */
export function parseCommandLine(command: Command, argv: string[]): { values: Values; positionals: string[] } | undefined {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...command.options, ...GLOBAL_OPTIONS, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    throw usageError(command, (error as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(command.usage.trimEnd() + '\n' + GLOBAL_USAGE);
    return undefined;
  }
  setVerbosity(parsed.values);
  return parsed;
}

// The library names its arguments as an API does ("The argument
// 'options.vmId' ... Received ..."); on a command line the thing to fix is
// the ADDR typed, so the message starts there and says what to type instead.
function addressProblem(text: string, error: Error): string {
  const code = (error as { code?: unknown }).code;
  const reason = error.message.replace(/^The argument '[^']+' /, '').replace(/\. Received [\s\S]*$/, '');
  if (/names no single partition/.test(reason)) {
    return `${text} names no single VM to connect to: use hvsock://parent/PORT (this VM's host), hvsock://loopback/PORT or vsock://CID:PORT`;
  }
  if (code === 'ERR_HVSOCK_UNSUPPORTED_ADDRESS' && /has no vsock CID/.test(reason)) {
    return `${text}: a VM id GUID has no vsock CID on Linux: use vsock://CID:PORT with the VM's CID (its guest-cid=, or hvsock id run in the VM), or hvsock://parent/PORT from a VM`;
  }
  if (code === 'ERR_HVSOCK_UNSUPPORTED_ADDRESS' && /Linux AF_VSOCK only/.test(reason)) {
    return `${text}: vsock://CID:PORT is for Linux; on Windows use hvsock://VMID/PORT (VMID: the VM's id, from (Get-VM NAME).Id, or hvsock://parent/PORT from a VM)`;
  }
  return `${text} ${reason}`;
}

/**
 * The single ADDR argument of a command, parsed as a URI and checked against
 * this platform's addressing rules for `role` (no socket is made), so a bad
 * address is a usage error in command-line words.
 */
export function addressArgument(command: Command, positionals: string[], role: 'connect' | 'listen' = 'connect'): ParsedAddress {
  if (positionals.length !== 1) {
    throw usageError(
      command,
      `expects one address (vsock://CID:PORT, hvsock://VMID/SERVICEID or hvsock:///VMM/SOCKET:PORT), got ${positionals.length}`,
    );
  }
  const text = positionals[0];
  try {
    const address = parseAddress(text, 'ADDR');
    if (!('udsPath' in address)) {
      checkAddress(address, role, 'ADDR');
    }
    return address;
  } catch (error) {
    throw usageError(command, addressProblem(text, error as Error));
  }
}

/** An address for status lines: the wildcard CID as "any" (as typed), never 4294967295. */
export function showAddress(address: Parameters<typeof formatAddress>[0]): string {
  const text = formatAddress(address);
  return text.startsWith(`vsock://${Cid.ANY}:`) ? `vsock://any:${text.slice(`vsock://${Cid.ANY}:`.length)}` : text;
}

/** An integer option within [min, max], or `fallback` when not given. */
export function integerOption(command: Command, values: Values, name: string, fallback: number, min: number, max: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(command, `--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Resolves on the first of `events`; rejects on 'error'. */
export function until(emitter: NodeJS.EventEmitter, ...events: string[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      emitter.off('error', onError);
      for (const event of events) emitter.off(event, handlers[event]);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const handlers: Record<string, (...args: unknown[]) => void> = {};
    for (const event of events) {
      handlers[event] = (...args: unknown[]) => {
        cleanup();
        resolve(args);
      };
      emitter.once(event, handlers[event]);
    }
    emitter.once('error', onError);
  });
}

/** What a connected socket of any kind says about its peer. */
export interface PeerInfo {
  remoteCid?: number;
  remotePort?: number;
  remoteVmId?: string;
  remoteServiceId?: string;
}

// Linux sockets know the peer's CID and port; Windows ones its VM id and
// service id (remoteCid is undefined there).
function peerAddress(socket: PeerInfo): string | undefined {
  if (socket.remoteCid !== undefined && socket.remotePort !== undefined)
    return showAddress({ cid: socket.remoteCid, port: socket.remotePort });
  if (socket.remoteVmId !== undefined && socket.remoteServiceId !== undefined)
    return showAddress({ vmId: socket.remoteVmId, serviceId: socket.remoteServiceId });
  return undefined;
}

/** Who is on the other end of an accepted connection, for status lines. */
export function peerName(socket: PeerInfo, address: ParsedAddress): string {
  // Hybrid vsock: the VMM does not say which guest CID/port connected.
  if ('udsPath' in address) return `a guest via ${formatAddress(address)}`;
  return peerAddress(socket) ?? 'an unnamed peer';
}

/** The peer a client command reached, for its result line. */
export function connectedPeer(socket: PeerInfo, address: ParsedAddress): string {
  // Hybrid vsock: the host knows the VMM socket and guest port it asked for, not the guest's CID.
  return ('udsPath' in address ? undefined : peerAddress(socket)) ?? formatAddress(address);
}

/** Status lines go to stderr so stdout carries only the data (none with -q). */
export function note(message: string): void {
  if (verbosity >= 1) process.stderr.write(`hvsock: ${message}\n`);
}

/** Step-by-step lines, with -v only. */
export function detail(message: string): void {
  if (verbosity >= 2) process.stderr.write(`hvsock: ${message}\n`);
}

/** Seconds for messages: at most three decimals, no trailing zeros. */
export function formatSeconds(seconds: number): string {
  return String(Number(seconds.toFixed(3)));
}

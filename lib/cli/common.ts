// What every command shares: argument parsing with --help, addresses from
// the command line, and one-line errors with socat-like exit codes
// (1 runtime failure, 2 usage).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type * as net from 'node:net';
import { formatAddress, parseAddress, type ParsedAddress } from '../index';

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

/** Parses a command's arguments; undefined when --help was asked for (and printed). */
export function parseCommandLine(command: Command, argv: string[]): { values: Values; positionals: string[] } | undefined {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    throw usageError(command, (error as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(command.usage.trimEnd() + '\n');
    return undefined;
  }
  return parsed;
}

/** The single ADDR argument of a command, parsed as a URI. */
export function addressArgument(command: Command, positionals: string[]): ParsedAddress {
  if (positionals.length !== 1) {
    throw usageError(command, `expects one address (vsock://CID:PORT, hvsock://VMID/SERVICEID or hvsock:///VMM/SOCKET:PORT), got ${positionals.length}`);
  }
  try {
    return parseAddress(positionals[0], 'ADDR');
  } catch (error) {
    throw usageError(command, (error as Error).message);
  }
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

/** Who is on the other end of an accepted connection, for status lines. */
export function peerName(socket: net.Socket, address: ParsedAddress): string {
  // Hybrid vsock: the VMM does not say which guest CID/port connected.
  if ('udsPath' in address) return `a guest via ${formatAddress(address)}`;
  return `vsock://${socket.remoteAddress}:${socket.remotePort}`;
}

/** The peer a client command reached, for its result line. */
export function connectedPeer(socket: { remoteCid?: number; remotePort?: number }, address: ParsedAddress): string {
  // Hybrid vsock: the host knows the VMM socket and guest port it asked for, not the guest's CID.
  return 'udsPath' in address ? formatAddress(address) : formatAddress({ cid: socket.remoteCid!, port: socket.remotePort! });
}

/** Status lines go to stderr so stdout carries only the data. */
export function note(message: string): void {
  process.stderr.write(`hvsock: ${message}\n`);
}

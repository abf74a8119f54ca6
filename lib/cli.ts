#!/usr/bin/env node
// The hvsock command: socat/ncat-style tools over vsock / Hyper-V sockets.
// One command per file in cli/; this file dispatches and turns failures
// into one stderr line and an exit code (1 runtime failure, 2 usage).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { benchCommand } from './cli/bench';
import { CliError, EXIT_FAILURE, EXIT_USAGE, GLOBAL_USAGE, parseCommandLine, type Command } from './cli/common';
import { connectCommand } from './cli/connect';
import { echoCommand } from './cli/echo';
import { idCommand } from './cli/id';
import { listenCommand } from './cli/listen';
import { pingCommand } from './cli/ping';
import { servicesCommand } from './cli/services';
import { sinkCommand } from './cli/sink';

const COMMANDS: Command[] = [
  listenCommand,
  connectCommand,
  echoCommand,
  sinkCommand,
  pingCommand,
  benchCommand,
  idCommand,
  servicesCommand,
];

const USAGE = `usage: hvsock COMMAND [options] ADDR   (hvsock COMMAND --help for more)
       hvsock --version

${COMMANDS.map((command) => `  ${command.name.padEnd(9)} ${command.summary}`).join('\n')}

Options of every command:${GLOBAL_USAGE.trimEnd()}
  -V, --version         print hvsock's version
Client commands (connect, ping, bench): -w/--connect-timeout S, -r/--retry N.
listen: -k/--keep-open, -e/--exec CMD, --send-only, --recv-only.

Addresses (ADDR):
  vsock://CID:PORT          CID: a number or any, local/loopback, host, hypervisor
                            PORT: a number or any (ephemeral, when listening)
  hvsock://VMID/SERVICEID   VMID: a GUID or wildcard, zero, children, loopback,
                            parent, silohost, broadcast; SERVICEID: a GUID or a
                            vsock port number (VSOCK template)
  hvsock:///PATH:PORT       hybrid vsock (Firecracker, Cloud Hypervisor,
                            vhost-device-vsock, OpenVMM): the VMM's Unix socket
                            PATH (absolute) and the guest port or service GUID;
                            listening serves PATH_PORT for guest connections
`;

// Bad input the library rejects (a URI it cannot map, a VM id without a
// CID) is a usage error, like the ones the CLI finds itself.
const USAGE_CODES = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE', 'ERR_HVSOCK_UNSUPPORTED_ADDRESS']);

// The package's version, from the package.json next to dist/.
function version(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

const GLOBAL_FLAGS = new Set(['-v', '--verbose', '-q', '--quiet']);

async function main(argv: string[]): Promise<number> {
  // -v / -q may come before the command too (hvsock -q listen ...): pass them on to it.
  const leading = [];
  while (GLOBAL_FLAGS.has(argv[0])) leading.push(argv.shift()!);
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`hvsock ${version()} (node ${process.version}, ${process.platform}-${process.arch})\n`);
    return 0;
  }
  if (name === undefined) {
    process.stderr.write(USAGE);
    return EXIT_USAGE;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) throw new CliError(`unknown command "${name}" (see hvsock --help)`, EXIT_USAGE);
  const parsed = parseCommandLine(command, [...leading, ...rest]);
  return parsed ? command.run(parsed.values, parsed.positionals) : 0;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && USAGE_CODES.has(code) ? EXIT_USAGE : EXIT_FAILURE;
}

// Exit explicitly: stdin or a server would keep the process alive. Written
// output is flushed first so a pipe reader gets every byte.
function exit(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(exit, (error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`hvsock: ${message}\n`);
  exit(exitCodeOf(error));
});

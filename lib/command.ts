// Running the system tools discovery relies on (wslinfo, powershell,
// hcsdiag, wsl.exe): execFile with a timeout, no shell, and failures turned
// into ERR_HVSOCK_DISCOVERY errors that say which tool and why.
import { childProcessModule } from './builtins';
import { discoveryError, invalidArgType, outOfRange } from './errors';

/** What a run produced; stdout as raw bytes (wsl.exe writes UTF-16LE). */
export interface CommandResult {
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs `file args` and resolves with its output; rejects on any failure. */
export type CommandRunner = (file: string, args: readonly string[], timeout: number) => Promise<CommandResult>;
/** Output bytes as text: UTF-16LE when it looks like it (BOM, or NULs), else UTF-8. */
export function decodeOutput(bytes: Buffer): string {
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes.length >= 2 && bytes.includes(0));
  const text = utf16 ? bytes.toString('utf16le') : bytes.toString('utf8');
  return text.replace(/^\uFEFF/, '');
}

export const runCommand: CommandRunner = (file, args, timeout) =>
  new Promise((resolve, reject) => {
    // execFile throws synchronously where spawning is not allowed (--permission without --allow-child-process).
    try {
      spawnTool(file, args, timeout, resolve, reject);
    } catch (error) {
      reject(discoveryError(`${file} ${args.join(' ')} could not be started: ${(error as Error).message}`, error));
    }
  });

function spawnTool(
  file: string,
  args: readonly string[],
  timeout: number,
  resolve: (result: CommandResult) => void,
  reject: (error: Error) => void,
): void {
  childProcessModule().execFile(
    file,
    args,
    { timeout, encoding: 'buffer', windowsHide: true, maxBuffer: 4 << 20 },
    (error, stdout, stderr) => {
      if (!error) {
        resolve({ stdout, stderr });
        return;
      }
      const failure = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: unknown };
      const said = decodeOutput(stderr).trim() || decodeOutput(stdout).trim();
      let why: string;
      if (failure.code === 'ENOENT') why = 'not found';
      else if (failure.killed || failure.signal) why = `timed out after ${timeout} ms`;
      else why = `failed (exit code ${String(failure.code)})${said ? `: ${said.slice(0, 200)}` : ''}`;
      reject(discoveryError(`${file} ${args.join(' ')} ${why}`, error));
    },
  );
}

/** Validates a `timeout` option in ms (default `fallback`). */
export function commandTimeout(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw invalidArgType('options.timeout', 'of type number', value);
  if (!Number.isInteger(value) || value < 1 || value > 600_000) throw outOfRange('options.timeout', 'an integer >= 1 and <= 600000', value);
  return value;
}

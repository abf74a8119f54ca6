// Where Windows discovery finds its tools: absolute paths under the system
// directory, never bare names, which Windows (libuv's spawn included)
// resolves starting in the current directory: a wsl.exe planted there would
// run instead of the system's.
import * as path from 'node:path';
import { discoveryError } from '../errors';
import { winBinding } from './binding';

/** The tools discovery runs, by name, relative to the system directory. */
const SYSTEM_TOOLS: Readonly<Record<string, string>> = {
  'wsl.exe': 'wsl.exe',
  'hcsdiag.exe': 'hcsdiag.exe',
  'powershell.exe': 'WindowsPowerShell\\v1.0\\powershell.exe',
};

// A local absolute path: drive letter, backslashes, no '.'/'..' segments.
function isLocalAbsolute(dir: unknown): dir is string {
  if (typeof dir !== 'string' || !/^[A-Za-z]:\\/.test(dir) || /[/"<>|?*\0]/.test(dir.slice(2))) return false;
  return dir
    .split('\\')
    .slice(1)
    .every((segment) => segment !== '.' && segment !== '..');
}

/**
 * The Windows system directory (C:\Windows\System32): GetSystemDirectoryW,
 * which the environment cannot redirect; %SystemRoot% / %windir% (validated)
 * only if that fails.
 */
export function systemDirectory(): string {
  const native = winBinding('systemDirectory()').systemDirectory();
  if (isLocalAbsolute(native)) return native;
  for (const root of [process.env.SystemRoot, process.env.windir]) {
    if (isLocalAbsolute(root)) return path.win32.join(root, 'System32');
  }
  throw discoveryError('cannot find the Windows system directory (GetSystemDirectoryW failed, %SystemRoot% unset or not a local path)');
}

/** The absolute path of a system tool discovery runs; throws for any other name. */
export function systemTool(name: string): string {
  const relative = SYSTEM_TOOLS[name];
  if (relative === undefined) throw discoveryError(`${name} is not a system tool hvsock runs`);
  return path.win32.join(systemDirectory(), relative);
}

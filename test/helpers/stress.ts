// Helpers for the stress/fault suites (test/stress/): the cross-process byte
// pattern, child peers, typed-error checks, memory and descriptor figures.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'vitest';

interface PatternApi {
  BLOCK: number;
  Pattern: new (seed: string | number) => { block(j: number): Buffer; slice(offset: number, length: number): Buffer };
  Verifier: new (seed: string | number) => { offset: number; mismatchAt: number; push(chunk: Buffer): boolean };
}

/** test/fixtures/pattern.js: shared with the child-process fixtures. */
export const pattern = createRequire(__filename)('../fixtures/pattern.js') as PatternApi;

/** Starts test/fixtures/<name> and resolves once it printed `ready` on stdout. */
export async function startFixture(name: string, args: string[], ready: string): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'fixtures', name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout?.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const onData = (d: string): void => {
      stdout += d;
      if (stdout.includes(ready)) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before "${ready}": ${stderr}`)));
  });
  return { child, stderr: () => stderr };
}

/** Kills `child` with `signal` and waits for it to be gone. */
export async function killAndReap(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** A Node system error as net makes them: code, negative errno, syscall. */
export function expectSystemError(error: unknown, codes: string[]): void {
  const e = error as NodeJS.ErrnoException;
  expect(e).toBeInstanceOf(Error);
  expect(codes).toContain(e.code);
  expect(typeof e.errno).toBe('number');
  expect(e.errno).toBeLessThan(0);
  expect(typeof e.syscall).toBe('string');
}

/** Full garbage collection (no --expose-gc needed), so RSS figures mean something. */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export const MiB = 1024 * 1024;
export const rssMiB = (): number => Math.round((process.memoryUsage.rss() / MiB) * 10) / 10;

/** Prints a measured figure in a form the report can quote. */
export function figure(name: string, value: unknown): void {
  process.stdout.write(`[stress] ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// The addon loader (lib/binding.ts): node-gyp-build's pick by default, and the
// HVSOCK_ADDON_PATH override that CI uses to run the suites against other
// builds of the same sources. Loads happen in child processes, which report
// the .node file they really mapped (/proc/self/maps). No vsock connect.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonPath } from '../lib/binding';

const root = path.join(__dirname, '..');
const loadCheck = path.join(__dirname, 'pack', 'load-check.cjs');
const scratch = mkdtempSync(path.join(tmpdir(), 'hvsock-binding-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function mappedWith(env: NodeJS.ProcessEnv): string[] {
  const out = execFileSync(process.execPath, [loadCheck, 'require', root], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return (JSON.parse(out.trim().split('\n').pop()!) as { addons: string[] }).addons;
}

describe('addon loading', () => {
  it("loads node-gyp-build's pick when HVSOCK_ADDON_PATH is unset or empty", () => {
    const picked = addonPath({});
    expect(picked).toMatch(/\.node$/);
    expect(addonPath({ HVSOCK_ADDON_PATH: '' })).toBe(picked);
    expect(mappedWith({ HVSOCK_ADDON_PATH: '' })).toEqual([picked]);
  });

  it('loads exactly the file HVSOCK_ADDON_PATH names', () => {
    const copy = path.join(scratch, 'other-build.node');
    copyFileSync(addonPath({}), copy);
    expect(addonPath({ HVSOCK_ADDON_PATH: copy })).toBe(copy);
    expect(mappedWith({ HVSOCK_ADDON_PATH: copy })).toEqual([copy]);
  });

  it('rejects a relative HVSOCK_ADDON_PATH, and fails loudly on a missing file', () => {
    expect(() => addonPath({ HVSOCK_ADDON_PATH: 'build/Release/hvsock.node' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('HVSOCK_ADDON_PATH') }),
    );
    const missing = spawnSync(process.execPath, [loadCheck, 'require', root], {
      env: { ...process.env, HVSOCK_ADDON_PATH: path.join(scratch, 'missing.node') },
      encoding: 'utf8',
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/Cannot find module .*missing\.node/);
  });
});

describe('what require("hvsock") loads', () => {
  // Every program that opens a socket pays for what loading hvsock pulls in:
  // http, https and tls (OpenSSL's start-up with them) and child_process load
  // on first use of the helpers that need them (lib/builtins.ts), ~2 MiB of
  // RSS per process in the guest (docs/performance.md, "Memory").
  it('loads none of http, https, tls, crypto or child_process until a helper needs them', () => {
    const script =
      "const before = new Set(process.moduleLoadList); const hvsock = require('hvsock');" +
      'const added = () => process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith("NativeModule ")).map((m) => m.slice(13));' +
      'const atLoad = added(); hvsock.createHttpAgent("vsock://3:80"); console.log(JSON.stringify({ atLoad, afterAgent: added() }));';
    const { atLoad, afterAgent } = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' })) as Record<
      string,
      string[]
    >;
    for (const heavy of ['http', 'https', 'tls', 'crypto', 'child_process']) expect(atLoad).not.toContain(heavy);
    expect(afterAgent).toContain('http'); // the helper still gets it
  });
});

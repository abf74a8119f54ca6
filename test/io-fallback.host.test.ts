// Feature detection of the I/O path: where Node's handle constructors can't
// be obtained (permission model blocks process.binding(), and no public
// net.Socket can be made on a stand-in descriptor), connect()/createServer()
// fall back to the poll path on their own — detected, never by Node version.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const permissionFlag = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';

describe('I/O path selection', () => {
  it('chooses the poll path when handles cannot be adopted', () => {
    const run = spawnSync(
      process.execPath,
      [permissionFlag, '--allow-fs-read=*', '--allow-addons', path.join(__dirname, 'fixtures', 'no-adoption.js')],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, HVSOCK_IO: '' } },
    );
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      bindingBlocked: true,
      canAdopt: false,
      chosen: 'poll',
      server: 'PollServer',
      explicitHandle: 'handle', // asked for explicitly: honoured, and its connect then reports EOPNOTSUPP
    });
  });

  it('HVSOCK_IO picks the path; an unknown value warns once and is ignored', () => {
    const script = `
      const { pickIoPath } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'io-path.js'))});
      const warnings = [];
      process.on('warning', (w) => warnings.push(w.code));
      const first = pickIoPath(undefined);
      process.env.HVSOCK_IO = 'bogus';
      const second = pickIoPath(undefined);
      pickIoPath(undefined);
      setImmediate(() => console.log(JSON.stringify({ first, second, warnings })));
    `;
    const run = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, HVSOCK_IO: 'poll' },
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ first: 'poll', second: 'handle', warnings: ['HVSOCK_IO'] });
  });

  it("'overlapped' is the Windows path: on Linux a typed error, never a silent fallback", async () => {
    const { pickIoPath } = await import('../dist/io-path.js');
    expect(() => pickIoPath('overlapped')).toThrow(expect.objectContaining({ code: 'ERR_HVSOCK_UNSUPPORTED_PLATFORM' }));
    expect(() => pickIoPath('iocp')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining("'overlapped'") }),
    );
  });
});

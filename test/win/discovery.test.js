// Windows-host discovery helpers on a Windows node.exe (under Wine): the
// parsers fed with recorded PowerShell / hcsdiag / wsl.exe output through the
// helpers' injectable command runner, and the real command path, which under
// Wine finds no Hyper-V tooling and must say so with a typed error.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const os = require('node:os');
const { execFileSync } = require('node:child_process');
const { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync } = require('node:fs');
const { once } = require('node:events');
const hvsock = require('hvsock');

const fixtures = path.join(__dirname, '..', 'fixtures', 'discovery');
const recorded = (name) => readFileSync(path.join(fixtures, name));
// A CommandRunner that answers from a recording and remembers what it was asked.
const replay =
  (name, calls = []) =>
  async (file, args) => {
    calls.push([file, ...args]);
    return { stdout: recorded(name), stderr: Buffer.alloc(0) };
  };

test('listVms(): recorded Get-VM JSON (array and single object) through the Windows code path', async () => {
  const calls = [];
  const vms = await hvsock.listVms({}, replay('get-vm-array.json', calls));
  assert.strictEqual(calls[0][0], 'powershell.exe');
  assert.deepStrictEqual(
    vms.map((vm) => vm.name),
    ['ubuntu-dev', 'Windows 11 test', 'build-agent'],
  );
  assert.strictEqual(vms[0].id, '5e3b1a52-7c8e-4f0c-9a61-2f3d1c0b8e47');
  assert.strictEqual(vms[0].state, 'Running');
  assert.strictEqual((await hvsock.listVms({}, replay('get-vm-single.json'))).length, 1);
  assert.deepStrictEqual(await hvsock.listVms({}, replay('get-vm-empty.txt')), []);
  await assert.rejects(hvsock.listVms({}, replay('get-vm-garbage.txt')), { code: 'ERR_HVSOCK_DISCOVERY' });
});

test('listComputeSystems(): recorded `hcsdiag list` output, WSL2 VM found', async () => {
  const systems = await hvsock.listComputeSystems({}, replay('hcsdiag-list.txt'));
  const wsl = systems.find((system) => system.owner === 'WSL');
  assert.ok(wsl, 'the WSL utility VM is listed');
  assert.strictEqual(wsl.id, 'eed44daf-4f7e-4cf5-82fd-f9c8ebf8db82');
});

// Wine 8 ships a powershell.exe stub that prints nothing and exits 0 (so
// Get-VM "finds" no VMs) and no hcsdiag.exe at all.
test('listVms()/listComputeSystems() for real under Wine: empty PowerShell output is no VMs; no hcsdiag.exe is a typed ERR_HVSOCK_DISCOVERY', async () => {
  assert.deepStrictEqual(await hvsock.listVms({ timeout: 30_000 }), []);
  await assert.rejects(hvsock.listComputeSystems({ timeout: 30_000 }), {
    code: 'ERR_HVSOCK_DISCOVERY',
    message: /^[A-Z]:\\windows\\system32\\hcsdiag\.exe list not found/i, // by absolute path, never a bare name
  });
});

test('system tools resolve under GetSystemDirectoryW; other names are refused', () => {
  const { systemDirectory, systemTool } = require('../../dist/win/system.js');
  assert.match(systemDirectory(), /^[A-Z]:\\windows\\system32$/i);
  assert.strictEqual(systemTool('wsl.exe'), `${systemDirectory()}\\wsl.exe`);
  assert.strictEqual(systemTool('powershell.exe'), `${systemDirectory()}\\WindowsPowerShell\\v1.0\\powershell.exe`);
  assert.throws(() => systemTool('cmd.exe'), { code: 'ERR_HVSOCK_DISCOVERY' });
});

// test/win/run.mjs builds it from fixtures/planted-tool.c: run, it leaves "<path>.ran".
const plantedTool = path.join(__dirname, '..', '..', '.cache', 'win', 'planted-tool.exe');

test('a wsl.exe (powershell.exe, hcsdiag.exe, wslinfo.exe) planted in the working directory is never run: not by listen(), not by discovery', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hvsock-planted-'));
  const names = ['wsl.exe', 'powershell.exe', 'hcsdiag.exe', 'wslinfo.exe'];
  for (const name of names) copyFileSync(plantedTool, path.join(dir, name));
  const ran = () =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.ran'))
      .sort();
  // The plant works: run by its path, it leaves its marker.
  execFileSync(path.join(dir, 'wsl.exe'));
  assert.deepStrictEqual(ran(), ['wsl.exe.ran']);
  unlinkSync(path.join(dir, 'wsl.exe.ran'));
  const cwd = process.cwd();
  process.chdir(dir);
  const { setInetStandInForTesting } = require('../../dist/win/transport.js');
  try {
    // listen() on WILDCARD (the default) and CHILDREN: AF_HYPERV (which Wine
    // refuses at socket()) and the AF_INET stand-in (which gets as far as listening).
    for (const vmId of [undefined, hvsock.VmId.WILDCARD, hvsock.VmId.CHILDREN]) {
      const server = hvsock.createServer();
      server.listen({ vmId, serviceId: hvsock.serviceIdFromPort(5000) });
      await once(server, 'error');
    }
    setInetStandInForTesting(true);
    for (const vmId of [undefined, hvsock.VmId.CHILDREN]) {
      const server = hvsock.createServer();
      server.listen({ vmId, serviceId: hvsock.serviceIdFromPort(0) });
      await once(server, 'listening');
      await new Promise((resolve) => setTimeout(resolve, 300)); // time for a process to start, if one did
      await new Promise((resolve) => server.close(resolve));
    }
    setInetStandInForTesting(false);
    // The discovery helpers with their real command runners.
    require('../../dist/win/host-discovery.js').resetWslWarningForTesting();
    const outcome = (promise) =>
      promise.then(
        (value) => ({ value }),
        (error) => ({ code: error.code }),
      );
    const warned = await outcome(hvsock.warnIfWslMissesWildcard(hvsock.VmId.WILDCARD));
    const vms = await outcome(hvsock.listVms({ timeout: 30_000 }));
    const systems = await outcome(hvsock.listComputeSystems({ timeout: 30_000 }));
    const wslVmId = await outcome(hvsock.getWslVmId());
    assert.deepStrictEqual(ran(), []);
    assert.deepStrictEqual(warned, { value: false }); // Wine has no System32\wsl.exe
    assert.deepStrictEqual(vms, { value: [] }); // Wine's System32 PowerShell stub prints nothing
    assert.deepStrictEqual(systems, { code: 'ERR_HVSOCK_DISCOVERY' }); // nor hcsdiag.exe
    assert.deepStrictEqual(wslVmId, { code: 'ERR_HVSOCK_UNSUPPORTED_PLATFORM' });
  } finally {
    setInetStandInForTesting(false);
    require('../../dist/win/host-discovery.js').resetWslWarningForTesting();
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('WSL2 wildcard warning: emitted once from recorded `wsl.exe --list --running` output', async () => {
  const warnings = [];
  const onWarning = (warning) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const calls = [];
    assert.strictEqual(await hvsock.warnIfWslMissesWildcard(hvsock.VmId.CHILDREN, replay('wsl-running.utf16', calls)), true);
    // Once per process: the second call neither runs wsl.exe nor warns again.
    assert.strictEqual(await hvsock.warnIfWslMissesWildcard(hvsock.VmId.WILDCARD, replay('wsl-running.utf16', calls)), true);
    assert.strictEqual(calls.length, 1);
    assert.deepStrictEqual(calls[0], ['wsl.exe', '--list', '--running', '--quiet']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.strictEqual(warnings.filter((w) => w.code === 'HVSOCK_WSL_WILDCARD').length, 1);
    // A specific VM id never needs the warning.
    assert.strictEqual(await hvsock.warnIfWslMissesWildcard(hvsock.VmId.PARENT, replay('wsl-running.utf16')), false);
  } finally {
    process.off('warning', onWarning);
  }
});

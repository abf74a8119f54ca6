// Discovery parsers against recorded / realistic tool output
// (test/fixtures/discovery), getTransportInfo() on this host's real kernel,
// getWslVmId() through real execFile of stand-in `wslinfo` scripts, and the
// Windows helpers with the platform and the command runner injected.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hvsock } from '../helpers/hvsock';

const load = createRequire(__filename);
const discovery: typeof import('../../lib/linux/discovery') = load('../../dist/linux/discovery.js');
const hyperv: typeof import('../../lib/win/host-discovery') = load('../../dist/win/host-discovery.js');
type CommandRunner = import('../../lib/command').CommandRunner;

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'discovery');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');
const json = (name: string) => JSON.parse(fixture(name));

describe('transportsFrom() (kernel facts -> transports)', () => {
  it('the rig guest (/proc/modules recorded there): vsock_loopback loaded, no guest transport', () => {
    const { vsock, transports } = discovery.transportsFrom({ procModules: fixture('proc-modules-qemu-guest.txt'), sysModules: [] });
    expect(vsock).toBe(true);
    expect(transports).toEqual([{ name: 'loopback', module: 'vsock_loopback', state: 'loaded' }]);
  });

  it('a KVM host: vhost_vsock loaded (the _common helper is not a transport)', () => {
    const { transports } = discovery.transportsFrom({
      procModules: fixture('proc-modules-kvm-host.txt'),
      sysModules: ['vhost_vsock', 'vsock'],
    });
    expect(transports).toEqual([{ name: 'vhost', module: 'vhost_vsock', state: 'loaded' }]);
  });

  it('this machine (sysfs recorded): virtio transport built in, found with no /proc/modules at all', () => {
    const recorded = json('sysfs-builtin-virtio.json');
    const { vsock, transports } = discovery.transportsFrom({ sysModules: recorded.sysModules, registered: recorded.registered });
    expect(vsock).toBe(true);
    expect(transports).toEqual([{ name: 'virtio', module: 'vmw_vsock_virtio_transport', state: 'builtin' }]);
  });

  it('WSL2: hv_sock built in without a /sys/module entry, found by its VMBus driver', () => {
    const sample = json('sysfs-wsl2.json');
    const { vsock, transports } = discovery.transportsFrom(sample);
    expect(vsock).toBe(true);
    expect(transports).toEqual([{ name: 'hyperv', module: 'hv_sock', state: 'builtin' }]);
  });

  it('modules.builtin lists VMCI (paths, .ko, dashes normalised)', () => {
    const { transports } = discovery.transportsFrom({
      procModules: '',
      sysModules: [],
      modulesBuiltin: fixture('modules-builtin-vmci.txt'),
    });
    expect(transports).toEqual([{ name: 'vmci', module: 'vmw_vsock_vmci_transport', state: 'builtin' }]);
  });

  it('nothing at all: no vsock, no transports; garbage lines are ignored', () => {
    expect(discovery.transportsFrom({ sysModules: [] })).toEqual({ vsock: false, transports: [] });
    expect(discovery.transportsFrom({ procModules: '\n\n  garbage\n\u0000', sysModules: ['..'], registered: ['x'] })).toEqual({
      vsock: false,
      transports: [],
    });
  });
});

describe('getTransportInfo() on this host', () => {
  it('agrees with the kernel: /dev/vsock, the virtio driver, the local CID', () => {
    const info = hvsock.getTransportInfo();
    expect(info.vsock).toBe(existsSync('/dev/vsock') || existsSync('/sys/module/vsock'));
    const virtio = existsSync('/sys/bus/virtio/drivers/vmw_vsock_virtio_transport');
    expect(info.transports.some((t) => t.name === 'virtio')).toBe(virtio);
    if (virtio) expect(info.guest).toBe('virtio');
    if (existsSync('/dev/vsock')) expect(info.localCid).toBe(hvsock.getLocalCid());
    else expect(info.localCid).toBeUndefined();
    expect(info.loopback).toBe(info.transports.some((t) => t.name === 'loopback'));
    console.log('host transports:', JSON.stringify(info));
  });
});

describe('getWslVmId()', () => {
  let dir: string;
  let savedPath: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hvsock-wslinfo-'));
    savedPath = process.env.PATH;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });
  // A stand-in wslinfo on PATH, run through the real execFile path.
  const wslinfo = (script: string): void => {
    const file = path.join(dir, 'wslinfo');
    writeFileSync(file, `#!/bin/sh\n${script}\n`);
    chmodSync(file, 0o755);
    process.env.PATH = `${dir}:${savedPath}`;
  };

  it('parses the recorded output (braces, upper or lower case) to a canonical id', async () => {
    wslinfo(`[ "$1" = --vm-id ] || exit 2; cat '${path.join(FIXTURES, 'wslinfo-vm-id.txt')}'`);
    expect(await hvsock.getWslVmId()).toBe('eed44daf-4f7e-4cf5-82fd-f9c8ebf8db82');
    expect(discovery.parseWslVmId('EED44DAF-4F7E-4CF5-82FD-F9C8EBF8DB82\r\n')).toBe('eed44daf-4f7e-4cf5-82fd-f9c8ebf8db82');
  });

  it('an older wslinfo without --vm-id: ERR_HVSOCK_DISCOVERY with its message and exit code', async () => {
    wslinfo('echo "Invalid command line argument: --vm-id" >&2; exit 1');
    await expect(hvsock.getWslVmId()).rejects.toMatchObject({
      code: 'ERR_HVSOCK_DISCOVERY',
      message: expect.stringMatching(/exit code 1.*Invalid command line argument/),
    });
  });

  it('no wslinfo (not WSL): ERR_HVSOCK_DISCOVERY "not found" with the ENOENT cause', async () => {
    process.env.PATH = dir; // empty directory
    const error = await hvsock.getWslVmId().catch((e) => e);
    expect(error).toMatchObject({ code: 'ERR_HVSOCK_DISCOVERY', message: 'wslinfo --vm-id not found' });
    expect(error.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('a hanging wslinfo times out; output without an id is an error; bad timeout is typed', async () => {
    wslinfo('sleep 5');
    await expect(hvsock.getWslVmId({ timeout: 200 })).rejects.toMatchObject({ message: 'wslinfo --vm-id timed out after 200 ms' });
    wslinfo('echo hello');
    await expect(hvsock.getWslVmId()).rejects.toMatchObject({ code: 'ERR_HVSOCK_DISCOVERY', message: expect.stringContaining('no VM id') });
    await expect(hvsock.getWslVmId({ timeout: 0 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });
});

describe('Get-VM JSON', () => {
  const expected = [
    { id: '5e3b1a52-7c8e-4f0c-9a61-2f3d1c0b8e47', name: 'ubuntu-dev', state: 'Running' },
    { id: '0f9c2d7e-31a4-4b6f-8d25-6c1e9f0a4b83', name: 'Windows 11 test', state: 'Off' },
  ];

  it('an array of VMs (ConvertTo-Json -Compress, CRLF)', () => {
    expect(hyperv.parseGetVmJson(fixture('get-vm-array.json'))).toEqual([
      ...expected,
      { id: 'c4d8e2f1-9b3a-4e57-a1c6-7d2f8e0b5a19', name: 'build-agent', state: 'Saved' },
    ]);
  });

  it('a single VM (ConvertTo-Json unwraps one-element arrays; upper-case id, indented)', () => {
    expect(hyperv.parseGetVmJson(fixture('get-vm-single.json'))).toEqual([expected[0]]);
  });

  it('numeric VMState values are named; invalid ids are skipped; a {Guid} object id is accepted', () => {
    expect(hyperv.parseGetVmJson(fixture('get-vm-numeric-state.json'))).toEqual([
      ...expected,
      { id: 'c4d8e2f1-9b3a-4e57-a1c6-7d2f8e0b5a19', name: 'build-agent', state: 'Resuming' },
    ]);
  });

  it('no VMs (empty output, null) is an empty list; PowerShell error text is ERR_HVSOCK_DISCOVERY', () => {
    expect(hyperv.parseGetVmJson(fixture('get-vm-empty.txt'))).toEqual([]);
    expect(hyperv.parseGetVmJson('null')).toEqual([]);
    expect(hyperv.parseGetVmJson('\uFEFF[]')).toEqual([]);
    expect(() => hyperv.parseGetVmJson(fixture('get-vm-garbage.txt'))).toThrow(
      expect.objectContaining({ code: 'ERR_HVSOCK_DISCOVERY', message: expect.stringContaining('not JSON') }),
    );
    expect(hyperv.parseGetVmJson('[1, "x", null, {"Name": "no id"}, {"Id": 5}]')).toEqual([]);
  });
});

describe('hcsdiag list / wsl.exe --list --running', () => {
  it('finds WSL2 utility VM, a Hyper-V VM and a container with their owners', () => {
    expect(hyperv.parseHcsdiagList(fixture('hcsdiag-list.txt'))).toEqual([
      { id: 'eed44daf-4f7e-4cf5-82fd-f9c8ebf8db82', type: 'VM', state: 'Running', owner: 'WSL' },
      { id: '5e3b1a52-7c8e-4f0c-9a61-2f3d1c0b8e47', type: 'VM', state: 'Running', owner: 'VMMS' },
      { id: '7a1f3c90-2b4d-4e8f-9c61-0d5e2a7b3f14', type: 'Container', state: 'Running', owner: 'docker' },
    ]);
    expect(hyperv.parseHcsdiagList('')).toEqual([]);
    expect(hyperv.parseHcsdiagList('a,b,c,d\nnot,a,guid,x\n')).toEqual([]);
  });

  it('decodes wsl.exe UTF-16LE output into distribution names', () => {
    expect(hyperv.parseWslRunning(readFileSync(path.join(FIXTURES, 'wsl-running.utf16')))).toEqual(['Ubuntu-22.04', 'docker-desktop']);
    expect(hyperv.parseWslRunning(Buffer.alloc(0))).toEqual([]);
  });
});

describe('Windows host helpers (platform and commands injected)', () => {
  const realPlatform = process.platform;
  const asWindows = (): void => void Object.defineProperty(process, 'platform', { value: 'win32' });
  afterEach(() => {
    Object.defineProperty(process, 'platform', { value: realPlatform });
    hyperv.resetWslWarningForTesting();
  });
  const recorded = (files: Record<string, Buffer | string>): CommandRunner & { calls: string[] } => {
    const calls: string[] = [];
    const run: CommandRunner = async (file, args) => {
      calls.push([file, ...args].join(' '));
      const out = files[file];
      if (out === undefined) throw new Error(`${file} not found`);
      return { stdout: Buffer.from(out), stderr: Buffer.alloc(0) };
    };
    return Object.assign(run, { calls });
  };

  it('listVms() / listComputeSystems() are Windows-only', async () => {
    await expect(hvsock.listVms()).rejects.toMatchObject({ code: 'ERR_HVSOCK_UNSUPPORTED_PLATFORM' });
    await expect(hvsock.listComputeSystems()).rejects.toMatchObject({ code: 'ERR_HVSOCK_UNSUPPORTED_PLATFORM' });
  });

  it('listVms() runs PowerShell non-interactively and parses its JSON', async () => {
    asWindows();
    const run = recorded({ 'powershell.exe': fixture('get-vm-single.json') });
    expect(await hyperv.listVms({}, run)).toEqual([{ id: '5e3b1a52-7c8e-4f0c-9a61-2f3d1c0b8e47', name: 'ubuntu-dev', state: 'Running' }]);
    expect(run.calls[0]).toMatch(/^powershell\.exe -NoProfile -NonInteractive -Command Get-VM \| .*ConvertTo-Json -Compress$/);
    const hcs = recorded({ 'hcsdiag.exe': fixture('hcsdiag-list.txt') });
    expect((await hyperv.listComputeSystems({}, hcs)).filter((s) => s.owner === 'WSL')).toHaveLength(1);
  });

  it('warns once per process when listening on WILDCARD/CHILDREN while WSL2 runs', async () => {
    asWindows();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): number => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const run = recorded({ 'wsl.exe': readFileSync(path.join(FIXTURES, 'wsl-running.utf16')) });
      expect(await hyperv.warnIfWslMissesWildcard(hvsock.VmId.LOOPBACK, run)).toBe(false); // exact ids: no check
      expect(run.calls).toEqual([]);
      expect(await hyperv.warnIfWslMissesWildcard(`{${hvsock.VmId.WILDCARD.toUpperCase()}}`, run)).toBe(true);
      expect(await hyperv.warnIfWslMissesWildcard(hvsock.VmId.CHILDREN, run)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(run.calls).toEqual(['wsl.exe --list --running --quiet']);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ name: 'HvsockWarning', code: 'HVSOCK_WSL_WILDCARD' });
      expect(warnings[0].message).toContain('Ubuntu-22.04, docker-desktop');
      expect(warnings[0].message).toContain('wslinfo --vm-id');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('no warning without WSL (wsl.exe missing or nothing running) or off Windows; never rejects', async () => {
    asWindows();
    expect(await hyperv.warnIfWslMissesWildcard(hvsock.VmId.WILDCARD, recorded({}))).toBe(false);
    hyperv.resetWslWarningForTesting();
    expect(await hyperv.warnIfWslMissesWildcard(hvsock.VmId.WILDCARD, recorded({ 'wsl.exe': '' }))).toBe(false);
    hyperv.resetWslWarningForTesting();
    Object.defineProperty(process, 'platform', { value: realPlatform });
    expect(await hyperv.warnIfWslMissesWildcard(hvsock.VmId.WILDCARD, recorded({ 'wsl.exe': 'x' }))).toBe(false);
    expect(await hyperv.warnIfWslMissesWildcard('not a guid', recorded({}))).toBe(false);
  });
});

// Prepares everything the guest needs, once, cached under <project>/.cache/vm:
// QEMU (apt), a Debian kernel + the few modules we need, busybox, an initramfs.
// A cached run costs a PATH lookup and a few stat() calls; no apt, no hashing
// of big files.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { aptHas, aptUpdate, ensureAptTool, run, SetupError, which } from '../../scripts/lib/apt.mjs';
import { chardev, cpio, dir, file } from './initramfs.mjs';

export { ensureAptTool, SetupError };

const here = fileURLToPath(new URL('.', import.meta.url));
export const projectRoot = join(here, '..', '..');
const cacheDir = join(projectRoot, '.cache', 'vm');
const initScript = join(here, 'guest-init.sh');
const l2InitScript = join(here, 'l2-init.sh');
const l2PeerSource = join(here, 'l2-peer.c');

// Load order matters: insmod does no dependency resolution. Builtins are
// skipped; every `depends=` of a module must appear earlier (checked below).
export const MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_mmio',
  'virtio_console',
  'netfs',
  'fscache',
  '9pnet',
  '9pnet_virtio',
  '9p',
  'overlay',
  'vsock',
  'vsock_diag',
  'vmw_vsock_virtio_transport_common',
  'vsock_loopback',
];

// The boundary rig (npm run test:vm-boundary): the test guest (L1) also loads
// the vsock host side (vhost_vsock: /dev/vhost-vsock, local CID 2), and boots
// an inner guest (L2) whose vsock is the real virtio guest transport. Same
// rule: each list in load order, dependencies earlier in it.
export const VHOST_MODULES = ['vhost_iotlb', 'vhost', 'vhost_vsock'];
export const L2_MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_mmio',
  'netfs',
  'fscache',
  '9pnet',
  '9pnet_virtio',
  '9p',
  'vsock',
  'vmw_vsock_virtio_transport_common',
  'vmw_vsock_virtio_transport',
];
const MODULE_SETS = { order: MODULES, 'order-vhost': VHOST_MODULES, 'order-l2': L2_MODULES };
const ALL_MODULES = [...new Set(Object.values(MODULE_SETS).flat())];

const log = (msg) => process.stderr.write(`[vm] ${msg}\n`);

const ensureQemu = () => ensureAptTool('qemu-system-x86_64', 'qemu-system-x86');

/**
 * socat, for the CLI's interop tests (VSOCK-LISTEN / VSOCK-CONNECT). The guest
 * mounts the host's root, so a host install is visible inside. Not fatal: the
 * tests that need it fail with their own message.
 */
function ensureSocat() {
  try {
    ensureAptTool('socat', 'socat');
  } catch (e) {
    log(`warning: socat unavailable (${e instanceof SetupError ? e.message.split('\n')[0] : e}); the CLI interop tests will fail`);
  }
}

/** linux-image-amd64 is a metapackage; its Depends names the concrete kernel. */
function resolveKernelVersion() {
  const parse = () =>
    /Depends: linux-image-(\S+-amd64)/.exec(run('apt-cache', ['depends', 'linux-image-amd64'], { allowFail: true }).stdout.toString())?.[1];
  let ver = parse();
  if (!ver) {
    aptUpdate();
    ver = parse();
  }
  if (!ver) throw new SetupError('cannot resolve the kernel: apt-cache depends linux-image-amd64 names no linux-image-*-amd64');
  return ver;
}

function download(pkgs, into) {
  for (const p of pkgs) if (!aptHas(p)) throw new SetupError(`apt has no package ${p}`);
  log(`downloading ${pkgs.join(' ')}`);
  run('apt-get', ['-q', '-o', 'APT::Sandbox::User=root', 'download', ...pkgs], { cwd: into });
  return pkgs.map((p) => {
    const deb = readdirSync(into).find((f) => f.startsWith(`${p}_`) && f.endsWith('.deb'));
    if (!deb) throw new SetupError(`apt-get download ${p} left no .deb in ${into}`);
    return join(into, deb);
  });
}

/** Unpack only the members matching the patterns; patterns that match nothing are reported, not fatal. */
function unpack(deb, into, patterns) {
  mkdirSync(into, { recursive: true });
  const r = run(
    'sh',
    ['-c', 'deb=$1 dest=$2; shift 2; dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest" --wildcards "$@"', 'sh', deb, into, ...patterns],
    { allowFail: true },
  );
  const unexpected = r.stderr
    .toString()
    .split('\n')
    .filter((l) => l && !/Not found in archive|Exiting with failure status/.test(l));
  if (unexpected.length) throw new SetupError(`unpacking ${deb} failed:\n${unexpected.join('\n')}`);
}

/** vmlinuz = boot stub + xz payload. The uncompressed ELF boots via PVH, ~2x faster under TCG. */
function extractVmlinux(vmlinuz) {
  const buf = readFileSync(vmlinuz);
  const magic = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  for (let at = buf.indexOf(magic); at >= 0; at = buf.indexOf(magic, at + 1)) {
    // busybox unxz chokes on this payload; xz --single-stream ignores the trailer.
    // Not run(): xz stops reading at a false magic (or the trailer), and the
    // EPIPE that our write of the rest then gets is no failure of the candidate.
    const r = spawnSync('xz', ['-dc', '--single-stream'], { input: buf.subarray(at), maxBuffer: 1 << 30 });
    if (r.error && r.error.code !== 'EPIPE') throw new SetupError(`cannot run xz: ${r.error.message}`);
    if (r.status === 0 && r.stdout?.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'))) return r.stdout;
  }
  throw new SetupError(`no xz-compressed ELF kernel found inside ${vmlinuz}`);
}

/**
 * Drops the appended module signature: verifying 14 RSA signatures in the
 * guest costs ~0.15 s under TCG, and the Debian kernel accepts unsigned
 * modules unless lockdown is on (only with Secure Boot). Layout: module,
 * signature, 12-byte struct module_signature (sig_len BE u32 last), magic.
 */
function stripSignature(ko) {
  const magic = '~Module signature appended~\n';
  if (ko.subarray(-magic.length).toString('latin1') !== magic) return ko;
  const sigLen = ko.readUInt32BE(ko.length - magic.length - 4);
  return ko.subarray(0, ko.length - magic.length - 12 - sigLen);
}

/** Module names this .ko needs loaded first (from its .modinfo "depends=" string). */
function modDepends(ko) {
  const buf = readFileSync(ko);
  const at = buf.indexOf('\0depends=');
  if (at < 0) return [];
  const value = buf.subarray(at + 9, buf.indexOf(0, at + 9)).toString();
  return value ? value.split(',').map((m) => m.replace(/-/g, '_')) : [];
}

const shortHash = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 12);
};

/** Downloads and unpacks the kernel + busybox into guest-<ver>-<hash of MODULES>/ (atomically, via rename). */
function ensureGuestFiles(ver) {
  const name = `guest-${ver}-${shortHash(...Object.entries(MODULE_SETS).flat(2))}`;
  const dest = join(cacheDir, name);
  if (Object.keys(MODULE_SETS).every((f) => existsSync(join(dest, f)))) return dest;
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'debs'), { recursive: true });
  const [kdeb, bdeb] = download([`linux-image-${ver}`, 'busybox-static'], join(tmp, 'debs'));
  log(`unpacking kernel ${ver}`);
  const x = join(tmp, 'x');
  unpack(kdeb, x, [
    `./boot/vmlinuz-${ver}`,
    `./lib/modules/${ver}/modules.builtin`,
    ...ALL_MODULES.map((m) => `./lib/modules/${ver}/kernel/*/${m}.ko*`),
  ]);
  unpack(bdeb, x, ['./bin/busybox']);
  const need = (p) => {
    if (!existsSync(p)) throw new SetupError(`${p} missing from the package`);
    return p;
  };

  writeFileSync(join(tmp, 'vmlinux'), extractVmlinux(need(join(x, 'boot', `vmlinuz-${ver}`))));
  renameSync(need(join(x, 'bin', 'busybox')), join(tmp, 'busybox'));

  const builtin = new Set(
    readFileSync(need(join(x, 'lib', 'modules', ver, 'modules.builtin')), 'utf8')
      .split('\n')
      .map((l) =>
        l
          .replace(/^.*\//, '')
          .replace(/\.ko.*$/, '')
          .replace(/-/g, '_'),
      ),
  );
  const found = new Map(
    readdirSync(join(x, 'lib', 'modules', ver), { recursive: true })
      .filter((f) => /\.ko(\.xz)?$/.test(f))
      .map((f) => [f.replace(/^.*\//, '').replace(/\.ko(\.xz)?$/, ''), join(x, 'lib', 'modules', ver, f)]),
  );
  mkdirSync(join(tmp, 'modules'));
  for (const m of ALL_MODULES) {
    if (builtin.has(m)) continue;
    const src = found.get(m);
    if (!src) throw new SetupError(`kernel ${ver} has module ${m} neither as a .ko nor builtin`);
    // busybox insmod cannot read compressed modules: decompress here.
    writeFileSync(
      join(tmp, 'modules', `${m}.ko`),
      stripSignature(src.endsWith('.xz') ? run('xz', ['-dc', src]).stdout : readFileSync(src)),
    );
  }
  // The vhost set loads after the main one (in the same kernel); L2's stands alone.
  const loadedBefore = { order: [], 'order-vhost': MODULES, 'order-l2': [] };
  for (const [file, list] of Object.entries(MODULE_SETS)) {
    const order = [];
    for (const m of list.filter((x) => !builtin.has(x))) {
      const missing = modDepends(join(tmp, 'modules', `${m}.ko`)).filter(
        (d) => !builtin.has(d) && !order.includes(d) && !loadedBefore[file].includes(d),
      );
      if (missing.length)
        throw new SetupError(`module ${m} needs ${missing.join(', ')} loaded before it; fix ${file} in ${fileURLToPath(import.meta.url)}`);
      order.push(m);
    }
    writeFileSync(join(tmp, file), order.join('\n') + '\n');
  }
  rmSync(join(tmp, 'debs'), { recursive: true });
  rmSync(x, { recursive: true });
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  // Older kernels / module sets are ~70 MiB each; keep only the current one.
  for (const old of readdirSync(cacheDir).filter((f) => f.startsWith('guest-') && !f.includes('.tmp-') && f !== name)) {
    rmSync(join(cacheDir, old), { recursive: true, force: true });
  }
  return dest;
}

const DIRS = ['bin', 'dev', 'proc', 'sys', 'ctl', 'lower', 'rw', 'newroot', 'lib', 'lib/modules', 'lib/modules/vhost'];
const L2_DIRS = ['bin', 'dev', 'proc', 'sys', 'newroot', 'lib', 'lib/modules'];

const readOrder = (gdir, name) => readFileSync(join(gdir, name), 'utf8').split('\n').filter(Boolean);
/** Module files under `dir`, numbered so the init's glob loads them in order. */
const moduleFiles = (gdir, dir, order) =>
  order.map((m, i) => file(`${dir}/${String(i).padStart(2, '0')}-${m}.ko`, readFileSync(join(gdir, 'modules', `${m}.ko`))));

/** An initramfs `<prefix>-<key>.cpio` (key: a hash of init, file list and writer); older ones of that prefix go. */
function ensureImage(gdir, prefix, init, dirs, modules, extra = []) {
  const key = shortHash(
    init,
    readFileSync(new URL('./initramfs.mjs', import.meta.url)),
    dirs.join(','),
    ...modules.map(([dir, order]) => `${dir}:${order.join(',')}`),
    ...extra.map((e) => e.name),
    ...extra.map((e) => e.data),
  );
  const out = join(gdir, `${prefix}-${key}.cpio`);
  if (existsSync(out)) return out;
  const image = cpio([
    ...dirs.map((d) => dir(d)),
    chardev('dev/console', 5, 1), // the kernel opens it for /init's stdio before devtmpfs is mounted
    file('bin/busybox', readFileSync(join(gdir, 'busybox')), 0o755),
    file('init', init, 0o755),
    ...modules.flatMap(([d, order]) => moduleFiles(gdir, d, order)),
    ...extra,
  ]);
  for (const old of readdirSync(gdir).filter((f) => f.startsWith(`${prefix}-`) && f.endsWith('.cpio'))) rmSync(join(gdir, old));
  writeFileSync(`${out}.tmp`, image);
  renameSync(`${out}.tmp`, out);
  return out;
}

/** The test guest's: its modules, and the vhost ones that guest-init.sh loads only for the boundary rig. */
const ensureInitramfs = (gdir) =>
  ensureImage(gdir, 'initramfs', readFileSync(initScript), DIRS, [
    ['lib/modules', readOrder(gdir, 'order')],
    ['lib/modules/vhost', readOrder(gdir, 'order-vhost')],
  ]);

/** test/vm/l2-peer.c, static (the inner guest runs it before it has any root but the initramfs). */
function l2Peer(gdir) {
  const source = readFileSync(l2PeerSource);
  const out = join(gdir, `l2-peer-${shortHash(source)}`);
  if (!existsSync(out)) {
    for (const old of readdirSync(gdir).filter((f) => f.startsWith('l2-peer-'))) rmSync(join(gdir, old));
    const cc =
      which('cc') ??
      which('gcc') ??
      (() => {
        throw new SetupError('the boundary rig needs a C compiler (cc) for test/vm/l2-peer.c');
      })();
    run(cc, ['-O2', '-static', '-Wall', '-o', `${out}.tmp`, l2PeerSource]);
    renameSync(`${out}.tmp`, out);
  }
  return readFileSync(out);
}

/** The inner guest's (L2, booted inside the test guest by test/boundary/): virtio vsock + 9p, no node of its own. */
const ensureL2Initramfs = (gdir) =>
  ensureImage(
    gdir,
    'l2-initramfs',
    readFileSync(l2InitScript),
    L2_DIRS,
    [['lib/modules', readOrder(gdir, 'order-l2')]],
    [file('bin/l2-peer', l2Peer(gdir), 0o755)],
  );

/** @returns {{ qemu: string, kernelVersion: string, vmlinux: string, initramfs: string, l2Initramfs: string }} */
export function prepare() {
  const t0 = Date.now();
  const qemu = ensureQemu();
  ensureSocat();
  mkdirSync(cacheDir, { recursive: true });
  // The resolved kernel version is remembered so cached runs never ask apt; rm -rf .cache/vm to re-resolve.
  const stateFile = join(cacheDir, 'kernel-version');
  let ver = existsSync(stateFile) ? readFileSync(stateFile, 'utf8').trim() : '';
  if (!ver) {
    ver = resolveKernelVersion();
    writeFileSync(stateFile, ver + '\n');
  }
  const gdir = ensureGuestFiles(ver);
  const initramfs = ensureInitramfs(gdir);
  const l2Initramfs = ensureL2Initramfs(gdir);
  const ms = Date.now() - t0;
  if (ms > 500) log(`setup done in ${(ms / 1000).toFixed(1)} s (cached in ${cacheDir})`);
  return { qemu, kernelVersion: ver, vmlinux: join(gdir, 'vmlinux'), initramfs, l2Initramfs };
}

// `node test/vm/setup.mjs` prepares without booting (e.g. a CI warm-up step).
if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  try {
    console.log(JSON.stringify(prepare(), null, 2));
  } catch (e) {
    log(`setup failed: ${e.message}`);
    process.exitCode = 125;
  }
}

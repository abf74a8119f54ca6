// Loads hvsock the way a user's project does and proves that the native addon
// works, without any vsock traffic: a pure function, the local-CID ioctl and a
// listen on CID ANY / port ANY (create/bind/listen is safe on a bare host;
// connect never is, see test/helpers/guest.ts). Prints one JSON line saying
// which .node file the process really mapped (from /proc/self/maps, so it is
// what dlopen loaded, not what a resolver meant to load) and what the calls
// returned; the caller asserts on it.
// usage: node load-check.cjs <require|import> <specifier>
'use strict';
const { readFileSync } = require('node:fs');

function mappedAddons() {
  const paths = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/).slice(5).join(' '))
    .filter((file) => file.endsWith('.node'));
  return [...new Set(paths)];
}

async function main() {
  const [mode, specifier] = process.argv.slice(2);
  if ((mode !== 'require' && mode !== 'import') || !specifier) throw new Error('usage: load-check.cjs <require|import> <specifier>');
  // import() of the CommonJS build: named exports must come through Node's
  // CJS-ESM interop, so read them off the namespace, not off `default`.
  const hvsock = mode === 'import' ? await import(specifier) : require(specifier);
  const serviceId = hvsock.serviceIdFromPort(5000);
  let localCid;
  try {
    localCid = hvsock.getLocalCid();
  } catch (error) {
    // No /dev/vsock or an ioctl the emulator doesn't pass on: still a typed
    // error from the addon, which is what this check is about.
    if (typeof error.code !== 'string' || error.syscall !== 'ioctl') throw error;
    localCid = error.code;
  }
  const server = hvsock.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ cid: hvsock.Cid.ANY, port: hvsock.PORT_ANY }, resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  const result = { mode, arch: process.arch, addons: mappedAddons(), serviceId, localCid, port };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  process.stderr.write(`load check failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});

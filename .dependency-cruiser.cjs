// Layering of lib/ (see ARCHITECTURE.md), checked by `npm run lint`:
//
//   entry       lib/index.ts (the public entry), lib/cli.ts + lib/cli/
//   api         lib/connect.ts, lib/server.ts, lib/reconnect.ts, lib/systemd.ts,
//               lib/address-of.ts, lib/protocols/
//   normalise   lib/options.ts, lib/io-path.ts
//   mechanisms  lib/address/, lib/handle/, lib/duplex/, lib/linux/
//               (lib/linux/poll/), lib/win/, lib/hybrid/, lib/retry.ts,
//               lib/command.ts
//   leaves      lib/errors.ts, lib/errno.ts, lib/abort.ts, lib/hints.ts,
//               lib/settings.ts, lib/binding.ts
//   test-only   lib/testing/ (loaded from dist/ by tests and benchmarks only)
//
// Imports point down. Type-only imports count too (tsPreCompilationDeps).
const LEAVES = '^lib/(errors|errno|abort|hints|settings|binding)[.]ts$';
const API = '^lib/((index|connect|server|reconnect|systemd|address-of|cli)[.]ts$|protocols/|cli/)';
const BELOW_API = '^lib/((address|handle|duplex|linux|win|hybrid)/|(retry|command|options|io-path)[.]ts$)';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles anywhere in lib/ (type-only imports included).',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'linux-not-win',
      comment: 'The Linux mechanisms never reach into the Windows ones.',
      severity: 'error',
      from: { path: '^lib/linux/' },
      to: { path: '^lib/win/' },
    },
    {
      name: 'win-not-linux',
      comment: 'The Windows mechanisms never reach into the Linux ones.',
      severity: 'error',
      from: { path: '^lib/win/' },
      to: { path: '^lib/linux/' },
    },
    {
      name: 'handle-is-shared',
      comment: 'lib/handle/ (adoption into Node handles) serves both OSes and the hybrid path: it imports none of them.',
      severity: 'error',
      from: { path: '^lib/handle/' },
      to: { path: '^lib/(linux|win|hybrid)/' },
    },
    {
      name: 'duplex-is-shared',
      comment:
        "lib/duplex/ (the net.Socket-like base of the Linux poll path's and the Windows overlapped path's Duplex sockets) serves both OSes: it imports neither.",
      severity: 'error',
      from: { path: '^lib/duplex/' },
      to: { path: '^lib/(linux|win|hybrid|handle)/' },
    },
    {
      name: 'cli-only-public-entry',
      comment: 'The CLI is a user of the library: it imports lib/index.ts and its own files only.',
      severity: 'error',
      from: { path: '^lib/(cli[.]ts$|cli/)' },
      to: { path: '^lib/', pathNot: '^lib/(index[.]ts$|cli/)' },
    },
    {
      name: 'leaves-import-only-leaves',
      comment: 'Errors, errno codes, abort handling, settings and the binding import no mechanism.',
      severity: 'error',
      from: { path: LEAVES },
      to: { path: '^lib/', pathNot: LEAVES },
    },
    {
      name: 'mechanisms-below-api',
      comment: 'Mechanisms and the normalise step never import the public entry or the dispatchers.',
      severity: 'error',
      from: { path: BELOW_API },
      to: { path: API },
    },
    {
      name: 'testing-not-from-lib',
      comment: 'lib/testing/ holds test-only stand-ins: nothing in lib/ imports it.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/testing/' },
      to: { path: '^lib/testing/' },
    },
    {
      name: 'no-test-imports',
      comment: 'Shipped code and build scripts never import test/ (test/ may import scripts/lib/).',
      severity: 'error',
      from: { path: '^(lib|scripts)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};

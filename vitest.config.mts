import { defineConfig } from 'vitest/config';

// Two projects. `host`: pure and fake-binding tests that never make a vsock
// socket, run on the host (npm test runs them first). `guest`: everything
// else, run inside the rig's QEMU guest under TCG, where everything is 10-20x
// slower than on the host: timeouts are generous on purpose.
// New host-only files are named *.host.test.ts. test/win/ runs under Wine with
// node --test (test/win/run.mjs), never under vitest.
const HOST_TESTS = [
  'test/address/address.test.ts',
  'test/address/uri.test.ts',
  'test/faults.test.ts',
  'test/fuzz.test.ts',
  'test/**/*.host.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'host', include: HOST_TESTS } },
      {
        extends: true,
        test: {
          name: 'guest',
          include: ['test/**/*.test.ts'],
          exclude: [...HOST_TESTS, 'test/win/**', 'test/stress/**', 'test/boundary/**'],
          // Each file must close every descriptor it opens (test/setup/fd-check.ts).
          setupFiles: ['test/setup/fd-check.ts'],
        },
      },
      // `stress`: long fault/load runs in the guest (npm run test:stress), kept
      // out of `guest` so the main suite stays quick. One file at a time: they
      // measure memory and descriptors.
      {
        extends: true,
        test: {
          name: 'stress',
          include: ['test/stress/**/*.stress.test.ts'],
          setupFiles: ['test/setup/fd-check.ts'],
          fileParallelism: false,
        },
      },
      // `boundary`: hvsock across a real VM boundary (npm run test:vm-boundary):
      // the guest becomes a vsock host and boots an inner guest. One file; its
      // waits carry their own bounds (an inner boot takes minutes).
      {
        extends: true,
        test: {
          name: 'boundary',
          include: ['test/boundary/**/*.test.ts'],
          setupFiles: ['test/setup/fd-check.ts'],
        },
      },
    ],
  },
});

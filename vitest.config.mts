import { defineConfig } from 'vitest/config';

// The suite runs inside the rig's QEMU guest under TCG, where everything is
// 10-20x slower than on the host: timeouts are generous on purpose.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});

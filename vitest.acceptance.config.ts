import { defineConfig } from 'vitest/config';

/**
 * The acceptance suite: the built service as a child process, driven by the real
 * Debian `cinder` and `openstack` clients (npm run test:acceptance; see test/acceptance/).
 */
export default defineConfig({
  test: {
    include: ['test/acceptance/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts', 'test/acceptance/harness/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 900_000,
    pool: 'forks',
    // Each file starts its own service; the clients are CPU-bound Python on two cores.
    fileParallelism: false,
  },
});

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
    // Each file starts its own service on its own database and bucket, so the three files run
    // side by side: a step alternates between a client (one core of Python) and the service's
    // job, so one file alone leaves much of two cores idle.
    fileParallelism: true,
    maxWorkers: 3,
  },
});

import { defineConfig } from 'vitest/config';

/**
 * `npm run test:hosts`: the three-host test (network namespaces, root only; it skips with a message
 * otherwise). It starts its own Postgres and moto_server, so no global setup.
 */
export default defineConfig({
  test: {
    include: ['test/hosts/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});

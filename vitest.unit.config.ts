import { defineConfig } from 'vitest/config';

/** `npm run test:unit`: the unit tests only, without the global setup that starts Postgres and moto. */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});

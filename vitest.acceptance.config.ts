import { defineConfig } from 'vitest/config';

/**
 * The acceptance suite: the built service as a child process, driven by the real
 * Debian `cinder` and `openstack` clients (npm run test:acceptance; see test/acceptance/).
 *
 * Two groups, one after the other:
 * - `clients`: each file starts its own service on its own database and bucket, so the files run
 *   side by side: a step alternates between a client (one core of Python) and the service's job,
 *   so one file alone leaves much of two cores idle.
 * - `console timed`: the browser files whose last cases time every page against issue 18's one
 *   second. They run alone, one file at a time, so the figure is the page's and not the load of
 *   three other files on two cores (in a clean-clone CI run beside them, pages that take 0.2-0.5 s
 *   here took 0.8-1.0 s).
 */
const TIMED_CONSOLE_FILES = [
  'test/acceptance/console-browser.test.ts',
  'test/acceptance/console-cbr.test.ts',
  'test/acceptance/console-instance.test.ts',
];

// What both groups share. The global setup stays on the root alone: a project that inherited it
// would build the service and start moto once more, side by side with the root's.
const perFile = { testTimeout: 600_000, hookTimeout: 900_000, pool: 'forks' } as const;

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts', 'test/acceptance/harness/global-setup.ts'],
    maxWorkers: 3,
    projects: [
      {
        test: {
          ...perFile,
          name: 'clients',
          include: ['test/acceptance/**/*.test.ts'],
          exclude: TIMED_CONSOLE_FILES,
          fileParallelism: true,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...perFile,
          name: 'console timed',
          include: TIMED_CONSOLE_FILES,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import { createDb } from '../db/connection.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { collectOrphans } from '../domain/backups/orphan-gc.js';
import { createObjectStore } from '../storage/create-store.js';

const USAGE = 'usage: node dist/src/cli/gc.js [--delete] [--prefix=volume_|trove_ (default: both)] [--container=NAME ...]';

/**
 * Orphan-object garbage collection: prints a JSON report of objects that belong to no
 * non-deleted backup (dry run); `--delete` removes them. Exits 1 on failure, 2 on bad usage.
 */
async function run(argv: string[]): Promise<void> {
  const containers: string[] = [];
  let prefix: string | undefined;
  let doDelete = false;
  for (const arg of argv) {
    if (arg === '--delete') doDelete = true;
    else if (arg.startsWith('--prefix=')) prefix = arg.slice('--prefix='.length);
    else if (arg.startsWith('--container=')) containers.push(arg.slice('--container='.length));
    else {
      process.stderr.write(`${USAGE}\n`);
      process.exit(2);
    }
  }
  const config = loadConfig();
  const embedded = config.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres(join(config.DATA_DIR, 'postgres'), undefined, config.HOST_ID);
  const db = createDb({ url: config.DATABASE_URL ?? embedded!.url });
  const store = createObjectStore(config);
  try {
    const reports = await collectOrphans(db, store, { containers: containers.length ? containers : undefined, prefix, delete: doDelete });
    const orphans = reports.reduce((n, r) => n + r.orphans.length, 0);
    process.stdout.write(`${JSON.stringify({ mode: doDelete ? 'delete' : 'dry-run', orphans, containers: reports }, null, 2)}\n`);
    if (reports.some((r) => r.error)) process.exitCode = 1;
  } finally {
    await store.close();
    await db.destroy();
    await embedded?.stop();
  }
}

run(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `gc failed: ${err instanceof Error ? err.message : String(err)}`}\n`);
  process.exit(1);
});

import { ConfigError, loadConfig } from '../config.js';
import { createDb } from '../db/connection.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { migrateToLatest } from '../db/migrate.js';
import { join } from 'node:path';

/** `npm run migrate`: applies pending migrations; exits non-zero on any failure. */
async function run(): Promise<void> {
  const config = loadConfig();
  const embedded = config.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres(join(config.DATA_DIR, 'postgres'), undefined, config.HOST_ID);
  const db = createDb({ url: config.DATABASE_URL ?? embedded!.url });
  try {
    const applied = await migrateToLatest(db);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'up to date\n');
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

run().catch((err) => {
  process.stderr.write(
    `${err instanceof ConfigError ? err.message : `migration failed: ${err instanceof Error ? err.message : String(err)}`}\n`,
  );
  process.exit(1);
});

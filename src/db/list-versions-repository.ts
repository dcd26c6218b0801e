import type { Kysely } from 'kysely';
import { preparedRows } from './connection.js';
import type { Database, Db } from './schema.js';

/** The statement Kysely compiles below, prepared once per connection for the page cache's one read per request. */
const VERSION_SQL = 'select "version" from "list_versions" where "project_id" = $1';

/**
 * The list version of a project (migrations/20261206_2100_list_versions.ts, 2200 and
 * 20261207_0100): changes in the same transaction as anything its Cinder backup, volume and
 * snapshot lists and its Trove backup lists show. null: no version (never cacheable).
 * Outside a transaction it is a prepared statement: every cached list page costs this one read.
 */
export async function readListVersion(db: Db, projectId: string): Promise<string | null> {
  const rows = await preparedRows<{ version: string }>(db, 'read_list_version', VERSION_SQL, [projectId]);
  if (rows) return rows[0]?.version ?? null;
  const row = await db.selectFrom('list_versions').select('version').where('project_id', '=', projectId).executeTakeFirst();
  return row?.version ?? null;
}

/**
 * Runs `fn` in one read-only REPEATABLE READ transaction: every query in it sees the same
 * snapshot, so a version read there is exactly the version of the rows read beside it.
 */
export function inOneSnapshot<T>(db: Kysely<Database>, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(fn);
}

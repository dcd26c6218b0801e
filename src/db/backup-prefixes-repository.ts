import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Where stored backups live, as far as the orphan GC needs to know. */
export interface StoredBackupPrefix {
  container: string;
  prefix: string;
}

/**
 * The object-name prefixes of every backup row that is not deleted, plus the containers
 * any backup row ever named. NOTE: the prefix is recorded before the first upload, so
 * reading this after listing a container covers every object the listing saw.
 */
export async function liveBackupPrefixes(db: Kysely<Database>): Promise<{ live: StoredBackupPrefix[]; containers: string[] }> {
  const live = await db
    .selectFrom('backups')
    .select(['container', 'service_metadata'])
    .where('deleted', '=', false)
    .where('container', 'is not', null)
    .where('service_metadata', 'is not', null)
    .execute();
  const containers = await db.selectFrom('backups').select('container').distinct().where('container', 'is not', null).execute();
  // Trove database backups (issue 15) keep their objects under trove_<instance>/<id>: owned too.
  const trove = await db.selectFrom('trove_backups').select(['container', 'prefix']).where('deleted', '=', false).execute();
  return {
    live: [...live.map((r) => ({ container: r.container!, prefix: r.service_metadata! })), ...trove],
    containers: containers.map((r) => r.container!),
  };
}

import { type Kysely, sql } from 'kysely';
import type { Database, Db } from './schema.js';

/** Where stored backups live, as far as the orphan GC needs to know. */
export interface StoredBackupPrefix {
  container: string;
  prefix: string;
}

/** Records that the service is about to write a backup under `prefix` (before the first object). */
export async function recordBackupPrefix(db: Db, p: StoredBackupPrefix & { backupId: string }): Promise<void> {
  await db
    .insertInto('backup_prefixes')
    .values({ container: p.container, prefix: p.prefix, backup_id: p.backupId })
    .onConflict((oc) => oc.columns(['container', 'prefix']).doNothing())
    .execute();
}

/**
 * What the orphan GC needs: the prefixes of every backup that is not deleted (`live`, in any
 * container, Trove's too), the ids of those backups, and every prefix the service itself ever
 * wrote under (`written`; only these may hold orphans). NOTE: a prefix is recorded before the
 * first upload, so reading this after listing a container covers every object the listing saw.
 */
export async function backupPrefixes(
  db: Kysely<Database>,
): Promise<{ live: StoredBackupPrefix[]; liveIds: Set<string>; written: StoredBackupPrefix[] }> {
  const live = await db
    .selectFrom('backups')
    .select(['id', 'container', 'service_metadata'])
    .where('deleted', '=', false)
    .where('container', 'is not', null)
    .where('service_metadata', 'is not', null)
    .execute();
  // Trove database backups keep their objects under trove_<instance>/<id>: owned too.
  const trove = await db.selectFrom('trove_backups').select(['id', 'container', 'prefix']).where('deleted', '=', false).execute();
  const written = [
    ...(await db.selectFrom('backup_prefixes').select(['container', 'prefix']).execute()),
    // Trove backups' rows are kept (soft-deleted) with their prefix, which the service chose: a record too.
    ...(await db.selectFrom('trove_backups').select(['container', 'prefix']).execute()),
  ];
  return {
    live: [...live.map((r) => ({ container: r.container!, prefix: r.service_metadata! })), ...trove],
    liveIds: new Set([...live.map((r) => r.id), ...trove.map((r) => r.id)]),
    written,
  };
}

/** Containers the service wrote backups into, or that a backup not deleted names. */
export async function knownContainers(db: Kysely<Database>): Promise<string[]> {
  const rows = await db
    .selectFrom('backup_prefixes')
    .select('container')
    .union(
      db
        .selectFrom('backups')
        .select('container')
        .where('deleted', '=', false)
        .where('container', 'is not', null)
        .$narrowType<{ container: string }>(),
    )
    .execute();
  return rows.map((r) => r.container);
}

/**
 * Live backups whose objects a backup stored at (container, prefix) would share: the same
 * prefix, or one prefix extending the other by '-' or '_' (object names are `<prefix>-NNNNN`
 * and `<prefix>_metadata`, so deleting either would delete objects of the other).
 */
export async function liveOwnersOfPrefix(
  db: Db,
  container: string,
  prefix: string,
  exceptId: string,
): Promise<Array<{ id: string; project_id: string; status: string; service_metadata: string | null }>> {
  return db
    .selectFrom('backups')
    .select(['id', 'project_id', 'status', 'service_metadata'])
    .where('deleted', '=', false)
    .where('id', '!=', exceptId)
    .where('container', '=', container)
    .where(
      sql<boolean>`(service_metadata = ${prefix}
        OR starts_with(service_metadata, ${`${prefix}-`}) OR starts_with(service_metadata, ${`${prefix}_`})
        OR starts_with(${prefix}, service_metadata || '-') OR starts_with(${prefix}, service_metadata || '_'))`,
    )
    .execute();
}

/** Live backups whose parent is `id`. */
export async function countChildren(db: Db, id: string): Promise<number> {
  const row = await db
    .selectFrom('backups')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('parent_id', '=', id)
    .where('deleted', '=', false)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

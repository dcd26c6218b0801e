import { type Expression, type SqlBool, type Transaction, sql } from 'kysely';
import type { Database, Db } from './schema.js';

/**
 * The key/value metadata tables of volumes and snapshots (same shape, different owner column):
 * user metadata, and image (Glance) metadata, Cinder's volume_glance_metadata.
 */
export type MetadataTable = 'volume_metadata' | 'snapshot_metadata' | 'volume_image_metadata' | 'snapshot_image_metadata';
const OWNER: Record<MetadataTable, string> = {
  volume_metadata: 'volume_id',
  snapshot_metadata: 'snapshot_id',
  volume_image_metadata: 'volume_id',
  snapshot_image_metadata: 'snapshot_id',
};

/** Metadata of many owners at once (list views): owner id -> {key: value}. */
export async function metadataFor(db: Db, table: MetadataTable, ownerIds: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>(ownerIds.map((id) => [id, {}]));
  if (ownerIds.length === 0) return out;
  const owner = OWNER[table];
  const { rows } = await sql<{ owner: string; key: string; value: string }>`
    SELECT ${sql.ref(owner)} AS owner, key, value FROM ${sql.table(table)}
    WHERE ${sql.ref(owner)} = ANY(${sql.val(ownerIds)}::uuid[]) ORDER BY key`.execute(db);
  for (const r of rows) out.get(r.owner)![r.key] = r.value;
  return out;
}

/** One owner's metadata. */
export async function metadataOf(db: Db, table: MetadataTable, ownerId: string): Promise<Record<string, string>> {
  return (await metadataFor(db, table, [ownerId])).get(ownerId) ?? {};
}

/** Upserts the given pairs, keeping the others (POST .../metadata, PUT .../metadata/{key}). */
export async function mergeMetadata(db: Db, table: MetadataTable, ownerId: string, pairs: Record<string, string>): Promise<void> {
  const owner = OWNER[table];
  for (const [key, value] of Object.entries(pairs)) {
    await sql`INSERT INTO ${sql.table(table)} (${sql.ref(owner)}, key, value) VALUES (${ownerId}, ${key}, ${value})
      ON CONFLICT (${sql.ref(owner)}, key) DO UPDATE SET value = EXCLUDED.value`.execute(db);
  }
}

/** Replaces the whole map (PUT .../metadata, create). Needs a transaction to be atomic. */
export async function replaceMetadata(
  trx: Transaction<Database>,
  table: MetadataTable,
  ownerId: string,
  pairs: Record<string, string>,
): Promise<void> {
  await sql`DELETE FROM ${sql.table(table)} WHERE ${sql.ref(OWNER[table])} = ${ownerId}`.execute(trx);
  await mergeMetadata(trx, table, ownerId, pairs);
}

/** Copies every pair of one owner to another (both may be of different tables); returns how many. */
export async function copyMetadata(
  db: Db,
  from: { table: MetadataTable; id: string },
  to: { table: MetadataTable; id: string },
): Promise<number> {
  const res = await sql`INSERT INTO ${sql.table(to.table)} (${sql.ref(OWNER[to.table])}, key, value)
    SELECT ${to.id}, key, value FROM ${sql.table(from.table)} WHERE ${sql.ref(OWNER[from.table])} = ${from.id}
    ON CONFLICT (${sql.ref(OWNER[to.table])}, key) DO UPDATE SET value = EXCLUDED.value`.execute(db);
  return Number(res.numAffectedRows ?? 0);
}

/** Deletes one key; false when it was not there. */
export async function deleteMetadataKey(db: Db, table: MetadataTable, ownerId: string, key: string): Promise<boolean> {
  const res = await sql`DELETE FROM ${sql.table(table)} WHERE ${sql.ref(OWNER[table])} = ${ownerId} AND key = ${key}`.execute(db);
  return Number(res.numAffectedRows ?? 0) > 0;
}

/** A WHERE condition: the owner row (`ownerRef`, e.g. "snapshots.id") has every pair of `filter`. */
export function hasMetadata(table: MetadataTable, ownerRef: string, filter: Record<string, string>): Expression<SqlBool> {
  const conds = Object.entries(filter).map(
    ([key, value]) =>
      sql`EXISTS (SELECT 1 FROM ${sql.table(table)} m WHERE m.${sql.ref(OWNER[table])} = ${sql.ref(ownerRef)} AND m.key = ${key} AND m.value = ${value})`,
  );
  return (conds.length ? sql<SqlBool>`(${sql.join(conds, sql` AND `)})` : sql<SqlBool>`true`) as Expression<SqlBool>;
}

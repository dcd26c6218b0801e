import type { Db } from './schema.js';

/** A data object a running backup stored: its PUT completed with these bytes. */
export interface StoredObjectRecord {
  name: string;
  /** Hex md5 of the uncompressed bytes. */
  md5: string;
  compression: string;
  /** Uncompressed length. */
  length: number;
  /** Bytes as stored (compressed). */
  storedSize: number;
}

/** Records objects whose PUT completed (a re-put of the same name replaces its record). */
export async function recordStoredObjects(db: Db, backupId: string, objects: readonly StoredObjectRecord[]): Promise<void> {
  if (objects.length === 0) return;
  await db
    .insertInto('backup_stored_objects')
    .values(
      objects.map((o) => ({
        backup_id: backupId,
        name: o.name,
        md5: o.md5,
        compression: o.compression,
        length: o.length,
        stored_size: o.storedSize,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['backup_id', 'name']).doUpdateSet((eb) => ({
        md5: eb.ref('excluded.md5'),
        compression: eb.ref('excluded.compression'),
        length: eb.ref('excluded.length'),
        stored_size: eb.ref('excluded.stored_size'),
      })),
    )
    .execute();
}

/** The objects an earlier run of this backup stored, by name. */
export async function storedObjectsOf(db: Db, backupId: string): Promise<Map<string, StoredObjectRecord>> {
  const rows = await db.selectFrom('backup_stored_objects').selectAll().where('backup_id', '=', backupId).execute();
  return new Map(
    rows.map((r) => [r.name, { name: r.name, md5: r.md5, compression: r.compression, length: r.length, storedSize: r.stored_size }]),
  );
}

/** Forgets a settled backup's records (available, error or deleted: nothing resumes it any more). */
export async function forgetStoredObjects(db: Db, backupId: string): Promise<void> {
  await db.deleteFrom('backup_stored_objects').where('backup_id', '=', backupId).execute();
}

import type { Kysely } from 'kysely';
import { backupPrefixes } from '../../db/backup-prefixes-repository.js';
import type { Database } from '../../db/schema.js';
import type { ObjectStore } from '../../storage/object-store.js';

/**
 * Where the service writes: Cinder's layout puts every volume backup under `volume_<id>/...`,
 * database backups live under `trove_<instance>/<id>`; other keys are not ours.
 */
export const DEFAULT_GC_PREFIXES: readonly string[] = ['volume_', 'trove_'];

export interface OrphanReport {
  container: string;
  /** Objects listed under the prefix. */
  scanned: number;
  /** Objects under a prefix the service wrote that belong to no non-deleted backup, in lexical order. */
  orphans: string[];
  /** The orphans grouped by the backup prefix they were written under. */
  byBackupPrefix: Record<string, number>;
  deleted: number;
  /** Why the container could not be listed, if it could not. */
  error?: string;
}

export interface OrphanGcOptions {
  /** Containers to scan; default: the store's default container and every container the service wrote backups into. */
  containers?: string[];
  /** Only keys under this prefix are considered (default: both of DEFAULT_GC_PREFIXES). */
  prefix?: string;
  /** Remove the orphans (default: report only). */
  delete?: boolean;
}

/** The backup prefix a Cinder object name was written under (`<prefix>-00001`, `<prefix>_metadata`). */
export function backupPrefixOf(key: string): string {
  const m = /^(.*_backup_[0-9a-f-]{36})(?:-\d+|_metadata|_sha256file)$/.exec(key);
  return m ? m[1]! : key;
}

function ownedBy(key: string, prefixes: Set<string>): boolean {
  // Owned when some prefix is followed by '-', '_' or '/' (engine ownKeys rule); try each cut point.
  for (let i = key.length - 1; i > 0; i--) {
    if ((key[i] === '-' || key[i] === '_' || key[i] === '/') && prefixes.has(key.slice(0, i))) return true;
  }
  return false;
}

/** The backup ids named in a key (`..._backup_<uuid>...`), wherever they appear. */
function backupIdsIn(key: string): string[] {
  return [...key.matchAll(/_backup_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/g)].map((m) => m[1]!);
}

/**
 * Finds (and with `delete`, removes) orphans: objects under a prefix this service wrote a
 * backup under (recorded before the first upload, kept after the backup is deleted) that
 * belong to no backup that is not deleted: leftovers of crashes, failed deletes or removed
 * rows. Objects the service never wrote are never orphans, whatever their names: another
 * application's objects in a bucket a tenant named, or a nested posix container's backups
 * seen from the container around it. A key naming the id of a live backup is never an
 * orphan either, in whichever container that backup lives.
 * NOTE: containers are listed BEFORE the rows are read; a backup records its prefix before
 * uploading, so an object of a backup being created right now is never taken for an orphan.
 */
export async function collectOrphans(db: Kysely<Database>, store: ObjectStore, options: OrphanGcOptions = {}): Promise<OrphanReport[]> {
  const prefixes = options.prefix !== undefined ? [options.prefix] : DEFAULT_GC_PREFIXES;
  const known = options.containers ?? [...new Set([store.defaultContainer, ...(await backupPrefixes(db)).written.map((w) => w.container)])];
  const listed: Array<{ container: string; keys: string[]; error?: string }> = [];
  for (const container of known) {
    // A container that cannot be listed (e.g. never created) is reported, not skipped silently.
    const keys = await Promise.all(prefixes.map((p) => store.list(container, p))).then(
      (k) => ({ keys: k.flat().sort() }),
      (err: unknown) => ({ keys: [] as string[], error: err instanceof Error ? err.message : String(err) }),
    );
    listed.push({ container, ...keys });
  }
  const { live, liveIds, written } = await backupPrefixes(db);
  const reports: OrphanReport[] = [];
  for (const { container, keys, error } of listed) {
    const livePrefixes = new Set(live.filter((l) => l.container === container).map((l) => l.prefix));
    const ours = new Set(written.filter((w) => w.container === container).map((w) => w.prefix));
    const orphans = keys.filter((k) => ownedBy(k, ours) && !ownedBy(k, livePrefixes) && !backupIdsIn(k).some((id) => liveIds.has(id)));
    const byBackupPrefix: Record<string, number> = {};
    for (const k of orphans) byBackupPrefix[backupPrefixOf(k)] = (byBackupPrefix[backupPrefixOf(k)] ?? 0) + 1;
    if (options.delete && orphans.length > 0) await store.deleteMany(container, orphans);
    reports.push({
      container,
      scanned: keys.length,
      orphans,
      byBackupPrefix,
      deleted: options.delete ? orphans.length : 0,
      ...(error ? { error } : {}),
    });
  }
  return reports;
}

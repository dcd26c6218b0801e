import { sql } from 'kysely';
import type { Db } from './schema.js';

/** Per-project quota overrides and the usage figures quotas are checked against. */

/** The project's overrides (resource -> hard limit); absent resources use the defaults. */
export async function quotaOverrides(db: Db, projectId: string): Promise<Record<string, number>> {
  const rows = await db.selectFrom('quotas').selectAll().where('project_id', '=', projectId).execute();
  return Object.fromEntries(rows.map((r) => [r.resource, r.hard_limit]));
}

/** Sets (upserts) one override. */
export async function setQuota(db: Db, projectId: string, resource: string, hardLimit: number): Promise<void> {
  await db
    .insertInto('quotas')
    .values({ project_id: projectId, resource, hard_limit: hardLimit })
    .onConflict((oc) => oc.columns(['project_id', 'resource']).doUpdateSet({ hard_limit: hardLimit }))
    .execute();
}

/** Removes every override of a project (it falls back to the defaults). */
export async function deleteProjectQuotas(db: Db, projectId: string): Promise<void> {
  await db.deleteFrom('quotas').where('project_id', '=', projectId).execute();
}

/** A quota class's overrides (resource -> hard limit). */
export async function quotaClassOverrides(db: Db, className: string): Promise<Record<string, number>> {
  const rows = await db.selectFrom('quota_classes').selectAll().where('class_name', '=', className).execute();
  return Object.fromEntries(rows.map((r) => [r.resource, r.hard_limit]));
}

/** Sets (upserts) one override of a quota class. */
export async function setQuotaClass(db: Db, className: string, resource: string, hardLimit: number): Promise<void> {
  await db
    .insertInto('quota_classes')
    .values({ class_name: className, resource, hard_limit: hardLimit })
    .onConflict((oc) => oc.columns(['class_name', 'resource']).doUpdateSet({ hard_limit: hardLimit }))
    .execute();
}

/**
 * Serialises quota checks of one project until the transaction ends, so two concurrent
 * creates cannot both pass a check that only one of them fits (Cinder reserves instead).
 */
export async function lockProjectQuota(db: Db, projectId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`quota:${projectId}`}))`.execute(db);
}

/** Usage of every quota resource of a project, from the live rows. */
export async function projectUsage(db: Db, projectId: string): Promise<Record<string, number>> {
  const r = await sql<{
    volumes: number;
    gigabytes: number;
    snapshots: number;
    snapshot_gb: number;
    backups: number;
    backup_gigabytes: number;
    trove_backups: number;
    trove_backup_gb: number;
  }>`
    SELECT
      (SELECT count(*) FROM volumes WHERE project_id = ${projectId} AND NOT deleted) AS volumes,
      (SELECT coalesce(sum(size), 0) FROM volumes WHERE project_id = ${projectId} AND NOT deleted) AS gigabytes,
      (SELECT count(*) FROM snapshots WHERE project_id = ${projectId} AND NOT deleted) AS snapshots,
      (SELECT coalesce(sum(volume_size), 0) FROM snapshots WHERE project_id = ${projectId} AND NOT deleted) AS snapshot_gb,
      (SELECT count(*) FROM backups WHERE project_id = ${projectId} AND NOT deleted) AS backups,
      (SELECT coalesce(sum(size), 0) FROM backups WHERE project_id = ${projectId} AND NOT deleted) AS backup_gigabytes,
      (SELECT count(*) FROM trove_backups WHERE project_id = ${projectId} AND NOT deleted) AS trove_backups,
      (SELECT coalesce(sum(CASE WHEN b.size_bytes IS NOT NULL THEN ceil(b.size_bytes / 1073741824.0) ELSE coalesce(i.volume_size, 0) END), 0)
         FROM trove_backups b LEFT JOIN trove_instances i ON i.id = b.instance_id
        WHERE b.project_id = ${projectId} AND NOT b.deleted) AS trove_backup_gb
  `.execute(db);
  const row = r.rows[0]!;
  return {
    volumes: Number(row.volumes),
    // Cinder's gigabytes quota counts volumes and snapshots together.
    gigabytes: Number(row.gigabytes) + Number(row.snapshot_gb),
    snapshots: Number(row.snapshots),
    // Database (Trove) backups share the backup quotas: a finished one counts its size in whole
    // GB, a running one its instance's volume size (what it may grow to).
    backups: Number(row.backups) + Number(row.trove_backups),
    backup_gigabytes: Number(row.backup_gigabytes) + Number(row.trove_backup_gb),
  };
}

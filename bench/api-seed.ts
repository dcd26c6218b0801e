import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createDb } from '../src/db/connection.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { DATASTORE_VERSION } from '../src/domain/trove/catalog.js';
import { freshDatabase } from './bench-db.js';

/**
 * The database behind the API benchmark: a fresh database (on DATABASE_URL's server, else the
 * machine's 127.0.0.1:5432, else embedded Postgres), migrated, with `projects` x `perProject`
 * available backups inserted directly through Kysely, plus `volumes` available volumes in the
 * first project for POST /backups, and TROVE_PER_PROJECT COMPLETED Trove backups in each project
 * for GET /v1.0/{p}/backups.
 */
export interface ApiDatabase {
  url: string;
  projects: string[];
  someBackupId: string;
  volumeIds: string[];
  seedSeconds: number;
  drop(): Promise<void>;
}

/** Trove backups a project (the Trove list's figure: a default page of 20 and a page of 100). */
const TROVE_PER_PROJECT = 100;

/** `TROVE_PER_PROJECT` COMPLETED Trove backups of one instance of `project`, a second apart. */
function troveBackups(project: string, now: number) {
  const instanceId = randomUUID();
  return Array.from({ length: TROVE_PER_PROJECT }, (_, i) => {
    const id = randomUUID();
    const at = new Date(now - (TROVE_PER_PROJECT - i) * 1000);
    return {
      id,
      project_id: project,
      user_id: 'bench',
      instance_id: instanceId,
      name: `db-backup-${i}`,
      description: null,
      status: 'COMPLETED',
      parent_id: null,
      datastore_type: 'postgresql',
      datastore_version: '15',
      datastore_version_id: DATASTORE_VERSION.id,
      size_bytes: 52428800 + i,
      stored_bytes: 10485760,
      container: 'volumebackups',
      prefix: `trove_${instanceId}/${id}`,
      host: 'bench',
      created_at: at,
      updated_at: at,
    };
  });
}

export async function seedApiDatabase(workdir: string, projects: number, perProject: number, volumes: number): Promise<ApiDatabase> {
  const fresh = await freshDatabase(workdir, `cbt_bench_${process.pid}`);
  const url = fresh.url;
  const db = createDb({ url });
  const t0 = performance.now();
  const projectIds = Array.from({ length: projects }, () => randomUUID().replace(/-/g, ''));
  const volumeIds: string[] = [];
  let someBackupId = '';
  try {
    await migrateToLatest(db);
    const now = Date.now();
    for (const [p, project] of projectIds.entries()) {
      const volumeId = randomUUID();
      const rows = Array.from({ length: perProject }, (_, i) => {
        const id = randomUUID();
        if (p === 0 && i === perProject >> 1) someBackupId = id;
        const at = new Date(now - (perProject - i) * 1000);
        return {
          id,
          project_id: project,
          user_id: 'bench',
          volume_id: volumeId,
          host: 'bench',
          availability_zone: 'nova',
          display_name: `backup-${i}`,
          display_description: null,
          container: 'volumebackups',
          parent_id: null,
          status: 'available',
          fail_reason: null,
          service_metadata: `volume_${volumeId}/20261123000000/az_nova_backup_${id}`,
          service: 'cinder.backup.drivers.s3.S3BackupDriver',
          size: 1,
          temp_volume_id: null,
          temp_snapshot_id: null,
          snapshot_id: null,
          data_timestamp: at,
          restore_volume_id: null,
          encryption_key_id: null,
          progress_operation: null,
          verify_result: null,
          created_at: at,
          updated_at: at,
          deleted_at: null,
        };
      });
      for (let i = 0; i < rows.length; i += 1000)
        await db
          .insertInto('backups')
          .values(rows.slice(i, i + 1000))
          .execute();
    }
    for (let i = 0; i < projectIds.length; i += 10)
      await db
        .insertInto('trove_backups')
        .values(projectIds.slice(i, i + 10).flatMap((project) => troveBackups(project, now)))
        .execute();
    const vols = Array.from({ length: volumes }, () => {
      const id = randomUUID();
      volumeIds.push(id);
      return {
        id,
        project_id: projectIds[0]!,
        user_id: 'bench',
        display_name: null,
        display_description: null,
        size: 1,
        status: 'available',
        previous_status: null,
        attach_status: 'detached',
        migration_status: null,
        availability_zone: 'nova',
        host: null,
        snapshot_id: null,
        source_volid: null,
        backup_id: null,
        created_at: new Date(),
        updated_at: null,
        launched_at: null,
        deleted_at: null,
      };
    });
    if (vols.length) await db.insertInto('volumes').values(vols).execute();
    // Two metadata keys a volume, as a list page shows them (issue 16's volume list figure).
    const meta = vols.flatMap((v, i) => [
      { volume_id: v.id, key: 'tier', value: `t${i % 3}` },
      { volume_id: v.id, key: 'owner', value: `team-${i % 7}` },
    ]);
    if (meta.length) await db.insertInto('volume_metadata').values(meta).execute();
    await sql`ANALYZE`.execute(db);
  } finally {
    await db.destroy();
  }
  return {
    url,
    projects: projectIds,
    someBackupId,
    volumeIds,
    seedSeconds: (performance.now() - t0) / 1000,
    drop: fresh.drop,
  };
}

import { type Kysely, sql } from 'kysely';

// Migrations import nothing from src/: they must keep working as the code moves on.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('volumes')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('display_name', 'varchar(255)')
    .addColumn('display_description', 'varchar(255)')
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(64)', (c) => c.notNull())
    .addColumn('previous_status', 'varchar(64)')
    .addColumn('attach_status', 'varchar(64)', (c) => c.notNull().defaultTo('detached'))
    .addColumn('migration_status', 'varchar(64)')
    .addColumn('availability_zone', 'varchar(255)', (c) => c.notNull())
    .addColumn('host', 'varchar(255)')
    .addColumn('snapshot_id', 'uuid')
    .addColumn('source_volid', 'uuid')
    .addColumn('backup_id', 'uuid')
    .addColumn('bootable', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('readonly', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz')
    .addColumn('launched_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema.createIndex('volumes_project_created_idx').on('volumes').columns(['project_id', 'deleted', 'created_at', 'id']).execute();

  await db.schema
    .createTable('volume_metadata')
    .addColumn('volume_id', 'uuid', (c) => c.notNull().references('volumes.id').onDelete('cascade'))
    .addColumn('key', 'varchar(255)', (c) => c.notNull())
    .addColumn('value', 'varchar(255)', (c) => c.notNull())
    .addPrimaryKeyConstraint('volume_metadata_pk', ['volume_id', 'key'])
    .execute();

  await db.schema
    .createTable('volume_attachments')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('volume_id', 'uuid', (c) => c.notNull().references('volumes.id').onDelete('cascade'))
    .addColumn('instance_uuid', 'varchar(255)')
    .addColumn('attached_host', 'varchar(255)')
    .addColumn('mountpoint', 'varchar(255)')
    .addColumn('attach_mode', 'varchar(8)', (c) => c.notNull().defaultTo('rw'))
    .addColumn('attached_at', 'timestamptz')
    .addColumn('detached_at', 'timestamptz')
    .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();

  await db.schema
    .createTable('snapshots')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('volume_id', 'uuid', (c) => c.notNull())
    .addColumn('display_name', 'varchar(255)')
    .addColumn('display_description', 'varchar(255)')
    .addColumn('status', 'varchar(64)', (c) => c.notNull())
    .addColumn('progress', 'varchar(8)', (c) => c.notNull().defaultTo('0%'))
    .addColumn('volume_size', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .createIndex('snapshots_project_created_idx')
    .on('snapshots')
    .columns(['project_id', 'deleted', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('snapshots_volume_idx').on('snapshots').columns(['volume_id', 'deleted']).execute();

  await db.schema
    .createTable('snapshot_metadata')
    .addColumn('snapshot_id', 'uuid', (c) => c.notNull().references('snapshots.id').onDelete('cascade'))
    .addColumn('key', 'varchar(255)', (c) => c.notNull())
    .addColumn('value', 'varchar(255)', (c) => c.notNull())
    .addPrimaryKeyConstraint('snapshot_metadata_pk', ['snapshot_id', 'key'])
    .execute();

  await db.schema
    .createTable('backups')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('volume_id', 'uuid', (c) => c.notNull())
    .addColumn('host', 'varchar(255)')
    .addColumn('availability_zone', 'varchar(255)')
    .addColumn('display_name', 'varchar(255)')
    .addColumn('display_description', 'varchar(255)')
    .addColumn('container', 'varchar(255)')
    .addColumn('parent_id', 'uuid')
    .addColumn('status', 'varchar(64)', (c) => c.notNull())
    .addColumn('fail_reason', 'varchar(255)')
    .addColumn('service_metadata', 'varchar(255)')
    .addColumn('service', 'varchar(255)')
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('object_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('num_dependent_backups', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('temp_volume_id', 'uuid')
    .addColumn('temp_snapshot_id', 'uuid')
    .addColumn('snapshot_id', 'uuid')
    .addColumn('data_timestamp', 'timestamptz', (c) => c.notNull())
    .addColumn('restore_volume_id', 'uuid')
    .addColumn('encryption_key_id', 'varchar(36)')
    .addColumn('progress_operation', 'varchar(32)')
    .addColumn('progress_bytes_done', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('progress_bytes_total', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('progress_started_at', 'timestamptz')
    .addColumn('progress_updated_at', 'timestamptz')
    .addColumn('stored_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('verified_at', 'timestamptz')
    .addColumn('verify_result', 'varchar(255)')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema.createIndex('backups_project_created_idx').on('backups').columns(['project_id', 'deleted', 'created_at', 'id']).execute();
  await db.schema.createIndex('backups_created_idx').on('backups').columns(['deleted', 'created_at', 'id']).execute();
  await db.schema.createIndex('backups_volume_idx').on('backups').columns(['volume_id', 'deleted']).execute();
  await db.schema.createIndex('backups_parent_idx').on('backups').columns(['parent_id', 'deleted']).execute();

  await db.schema
    .createTable('backup_metadata')
    .addColumn('backup_id', 'uuid', (c) => c.notNull().references('backups.id').onDelete('cascade'))
    .addColumn('key', 'varchar(255)', (c) => c.notNull())
    .addColumn('value', 'varchar(255)', (c) => c.notNull())
    .addPrimaryKeyConstraint('backup_metadata_pk', ['backup_id', 'key'])
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('resource_id', 'uuid', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('queued'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'varchar(255)')
    .addColumn('lease_expires_at', 'timestamptz')
    .addColumn('run_after', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz')
    .execute();
  // The claim query scans only live jobs.
  await sql`CREATE INDEX jobs_claim_idx ON jobs (status, run_after, id) WHERE status IN ('queued', 'running')`.execute(db);
  await db.schema.createIndex('jobs_resource_idx').on('jobs').columns(['resource_id']).execute();

  await db.schema
    .createTable('quotas')
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('resource', 'varchar(64)', (c) => c.notNull())
    .addColumn('hard_limit', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('quotas_pk', ['project_id', 'resource'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'quotas',
    'jobs',
    'backup_metadata',
    'backups',
    'snapshot_metadata',
    'snapshots',
    'volume_attachments',
    'volume_metadata',
    'volumes',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}

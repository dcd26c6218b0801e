import { type Kysely, sql } from 'kysely';

// CBR (issue 14): vaults, their volumes, policies and their vault binding, checkpoints,
// operation logs, and the CBR columns of a backup (a CBR backup IS a Cinder backup row).
// Migrations import nothing from src/.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('cbr_vaults')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)')
    .addColumn('status', 'varchar(32)', (c) => c.notNull().defaultTo('available'))
    .addColumn('size_gb', 'bigint', (c) => c.notNull())
    .addColumn('consistent_level', 'varchar(32)', (c) => c.notNull().defaultTo('crash_consistent'))
    .addColumn('charging_mode', 'varchar(32)', (c) => c.notNull().defaultTo('post_paid'))
    .addColumn('cloud_type', 'varchar(32)', (c) => c.notNull().defaultTo('public'))
    .addColumn('threshold', 'integer', (c) => c.notNull().defaultTo(80))
    .addColumn('auto_bind', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('auto_expand', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('smn_notify', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('locked', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('enterprise_project_id', 'varchar(64)', (c) => c.notNull().defaultTo('0'))
    .addColumn('backup_name_prefix', 'varchar(64)')
    // bind_rules, tags and the accepted-and-echoed keys, as the caller sent them.
    .addColumn('extra', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz')
    .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema.createIndex('cbr_vaults_project_idx').on('cbr_vaults').columns(['project_id', 'deleted', 'created_at']).execute();

  await db.schema
    .createTable('cbr_vault_resources')
    .addColumn('seq', 'bigserial', (c) => c.primaryKey()) // insertion order (clients diff on it)
    .addColumn('vault_id', 'uuid', (c) => c.notNull().references('cbr_vaults.id').onDelete('cascade'))
    .addColumn('volume_id', 'uuid', (c) => c.notNull().references('volumes.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // A volume is in at most one vault (BackupService.6103).
  await db.schema.createIndex('cbr_vault_resources_volume_uq').on('cbr_vault_resources').column('volume_id').unique().execute();
  await db.schema.createIndex('cbr_vault_resources_vault_idx').on('cbr_vault_resources').columns(['vault_id', 'seq']).execute();

  await db.schema
    .createTable('cbr_policies')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('operation_type', 'varchar(32)', (c) => c.notNull().defaultTo('backup'))
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('trigger_id', 'uuid', (c) => c.notNull())
    // trigger.properties.pattern, verbatim (echoed byte for byte).
    .addColumn('patterns', 'jsonb', (c) => c.notNull())
    // operation_definition, verbatim.
    .addColumn('operation_definition', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('cbr_policies_project_idx').on('cbr_policies').columns(['project_id', 'created_at']).execute();

  await db.schema
    .createTable('cbr_policy_vaults')
    .addColumn('vault_id', 'uuid', (c) => c.primaryKey().references('cbr_vaults.id').onDelete('cascade')) // one backup policy per vault
    .addColumn('policy_id', 'uuid', (c) => c.notNull().references('cbr_policies.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('cbr_policy_vaults_policy_idx').on('cbr_policy_vaults').column('policy_id').execute();

  await db.schema
    .createTable('cbr_checkpoints')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('vault_id', 'uuid', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)')
    .addColumn('auto_trigger', 'boolean', (c) => c.notNull().defaultTo(false)) // as the caller sent it (echo)
    .addColumn('scheduled', 'boolean', (c) => c.notNull().defaultTo(false)) // made by the scheduler
    .addColumn('policy_id', 'uuid')
    .addColumn('incremental', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('skipped', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('cbr_checkpoints_vault_idx').on('cbr_checkpoints').columns(['vault_id', 'created_at']).execute();

  await db.schema
    .createTable('cbr_operation_logs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('operation_type', 'varchar(32)', (c) => c.notNull())
    // Stored status; while work runs the view derives it from the backup / job rows.
    .addColumn('status', 'varchar(32)', (c) => c.notNull().defaultTo('waiting'))
    .addColumn('checkpoint_id', 'uuid')
    .addColumn('policy_id', 'uuid')
    .addColumn('vault_id', 'uuid')
    .addColumn('vault_name', 'varchar(255)')
    .addColumn('resource_id', 'uuid')
    .addColumn('resource_name', 'varchar(255)')
    .addColumn('backup_id', 'uuid')
    .addColumn('backup_name', 'varchar(255)')
    .addColumn('target_resource_id', 'uuid')
    .addColumn('job_id', 'bigint')
    .addColumn('incremental', 'boolean')
    .addColumn('error_code', 'varchar(64)', (c) => c.notNull().defaultTo(''))
    .addColumn('error_message', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('extra', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('cbr_operation_logs_project_idx').on('cbr_operation_logs').columns(['project_id', 'created_at']).execute();

  await db.schema
    .alterTable('backups')
    .addColumn('vault_id', 'uuid')
    .addColumn('checkpoint_id', 'uuid')
    .addColumn('cbr_policy_id', 'uuid')
    .addColumn('cbr_auto_trigger', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema.createIndex('backups_vault_idx').on('backups').columns(['vault_id', 'deleted']).execute();
  await db.schema.createIndex('backups_checkpoint_idx').on('backups').column('checkpoint_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('backups')
    .dropColumn('vault_id')
    .dropColumn('checkpoint_id')
    .dropColumn('cbr_policy_id')
    .dropColumn('cbr_auto_trigger')
    .execute();
  for (const t of ['cbr_operation_logs', 'cbr_checkpoints', 'cbr_policy_vaults', 'cbr_policies', 'cbr_vault_resources', 'cbr_vaults']) {
    await db.schema.dropTable(t).execute();
  }
}

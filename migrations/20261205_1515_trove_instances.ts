import { type Kysely, sql } from 'kysely';

// Migrations import nothing from src/: they must keep working as the code moves on.

/** Trove instances: PostgreSQL clusters the service runs, one port each on their host. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('trove_instances')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('operating_status', 'varchar(32)', (c) => c.notNull().defaultTo(''))
    .addColumn('flavor_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('volume_size', 'integer', (c) => c.notNull())
    .addColumn('datastore_version_id', 'uuid', (c) => c.notNull())
    .addColumn('host_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('fault_message', 'text')
    .addColumn('fault_at', 'timestamptz')
    .addColumn('restore_backup_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .createIndex('trove_instances_project_idx')
    .on('trove_instances')
    .columns(['project_id', 'deleted', 'created_at'])
    .execute();
  // One live instance per port on a host: the port allocator relies on it.
  await sql`CREATE UNIQUE INDEX trove_instances_host_port_uq ON trove_instances (host_id, port) WHERE NOT deleted`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('trove_instances').execute();
}

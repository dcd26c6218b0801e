import { type Kysely, sql } from 'kysely';

// Migrations import nothing from src/: they must keep working as the code moves on.

/** Trove database backups (physical backups of instance clusters, issue 15). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('trove_backups')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('instance_id', 'uuid', (c) => c.notNull()) // backups outlive their instance: no foreign key
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)')
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('fail_reason', 'text')
    .addColumn('parent_id', 'uuid')
    .addColumn('datastore_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('datastore_version', 'varchar(64)', (c) => c.notNull())
    .addColumn('datastore_version_id', 'uuid', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint') // the cluster's files at backup time (Trove's size)
    .addColumn('stored_bytes', 'bigint')
    .addColumn('container', 'varchar(255)', (c) => c.notNull())
    .addColumn('prefix', 'varchar(512)', (c) => c.notNull())
    .addColumn('host', 'varchar(255)')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  await sql`CREATE INDEX trove_backups_project_idx ON trove_backups (project_id, updated_at DESC) WHERE NOT deleted`.execute(db);
  await sql`CREATE INDEX trove_backups_instance_idx ON trove_backups (instance_id) WHERE NOT deleted`.execute(db);
  await sql`CREATE INDEX trove_backups_parent_idx ON trove_backups (parent_id) WHERE NOT deleted`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('trove_backups').ifExists().execute();
}

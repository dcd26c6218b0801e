import { type Kysely, sql } from 'kysely';

// The data objects a running backup has stored, one row written after each PUT succeeded: what
// a backup interrupted by a stop, a crash or a lost lease resumes from (it re-uploads none of
// them). A PUT that never completed has no row, so a half-written object is never trusted.
// Rows are removed when the backup settles. Migrations import nothing from src/.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('backup_stored_objects')
    .addColumn('backup_id', 'uuid', (c) => c.notNull())
    .addColumn('name', 'varchar(1024)', (c) => c.notNull())
    .addColumn('md5', 'char(32)', (c) => c.notNull())
    .addColumn('compression', 'varchar(16)', (c) => c.notNull())
    .addColumn('length', 'bigint', (c) => c.notNull())
    .addColumn('stored_size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('backup_stored_objects_pk', ['backup_id', 'name'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('backup_stored_objects').execute();
}

import { type Kysely, sql } from 'kysely';

// Every object prefix the service itself wrote backups under, kept after the backup is deleted:
// orphan GC deletes only under these, never objects it did not write (another application's
// bucket, a nested container, an imported record's objects). Migrations import nothing from src/.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('backup_prefixes')
    .addColumn('container', 'varchar(1024)', (c) => c.notNull())
    .addColumn('prefix', 'varchar(1024)', (c) => c.notNull())
    .addColumn('backup_id', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('backup_prefixes_pk', ['container', 'prefix'])
    .execute();
  // Backups written before this table existed: their rows are the only record left.
  await sql`INSERT INTO backup_prefixes (container, prefix, backup_id)
            SELECT DISTINCT ON (container, service_metadata) container, service_metadata, id FROM backups
            WHERE container IS NOT NULL AND service_metadata IS NOT NULL
            ON CONFLICT DO NOTHING`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('backup_prefixes').execute();
}

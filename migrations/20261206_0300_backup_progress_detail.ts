import type { Kysely } from 'kysely';

// The progress extension's readable figures: what the operation is doing (phase), bytes read
// from its source and stored at its destination, the current rate, and which job run wrote
// the record (a record of an earlier run is never shown as the current one's).
// Migrations import nothing from src/.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('backups')
    .addColumn('progress_phase', 'varchar(32)')
    .addColumn('progress_bytes_read', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('progress_bytes_stored', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('progress_rate_bytes_per_sec', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('progress_job_id', 'bigint')
    .addColumn('progress_attempt', 'integer')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('backups')
    .dropColumn('progress_phase')
    .dropColumn('progress_bytes_read')
    .dropColumn('progress_bytes_stored')
    .dropColumn('progress_rate_bytes_per_sec')
    .dropColumn('progress_job_id')
    .dropColumn('progress_attempt')
    .execute();
}

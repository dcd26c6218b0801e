import type { Kysely } from 'kysely';

// Migrations import nothing from src/: they must keep working as the code moves on.

/**
 * Host-bound jobs: a job whose work needs files on one host (a volume, an instance's cluster)
 * names that host, and only a worker there claims it; NULL means any worker may.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('host_id', 'varchar(255)').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').dropColumn('host_id').execute();
}

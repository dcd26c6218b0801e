import { type Kysely, sql } from 'kysely';

// Worker liveness: each job worker process keeps one row, renewed on a timer and removed when it
// stops, so the API can tell a host whose workers are gone (its host-bound jobs wait) from one
// whose worker is merely busy. Migrations import nothing from src/.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('worker_heartbeats')
    .addColumn('owner', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('host_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('worker_heartbeats_host_idx').on('worker_heartbeats').columns(['host_id', 'expires_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('worker_heartbeats').execute();
}

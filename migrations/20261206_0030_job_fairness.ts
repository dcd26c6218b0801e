import { type Kysely, sql } from 'kysely';

// Fair job claiming across projects: each job records the project it works for (null for work
// of no project), and job_project_turns records when each project last had a job claimed, so
// the claim can serve the project that waited longest. Migrations import nothing from src/.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('project_id', 'varchar(255)').execute();
  // Live jobs of one project (queued or running): the per-project count and the claim's per-project pick.
  await sql`CREATE INDEX jobs_project_live_idx ON jobs ((coalesce(project_id, '')), id) WHERE status IN ('queued', 'running')`.execute(db);
  // One verify per backup at a time, queued or running.
  await sql`CREATE UNIQUE INDEX jobs_one_live_verify_idx ON jobs (resource_id) WHERE kind = 'verify' AND status IN ('queued', 'running')`.execute(
    db,
  );
  await db.schema
    .createTable('job_project_turns')
    .addColumn('project_id', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('last_claimed_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('job_project_turns').execute();
  await sql`DROP INDEX IF EXISTS jobs_one_live_verify_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS jobs_project_live_idx`.execute(db);
  await db.schema.alterTable('jobs').dropColumn('project_id').execute();
}

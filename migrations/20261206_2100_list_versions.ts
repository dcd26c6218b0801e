import { type Kysely, sql } from 'kysely';

// A version per project of everything a backup list page shows (backups and their metadata):
// the id of the last transaction that changed it, written by statement-level triggers in that
// same transaction, so a snapshot sees a page's rows and its version together. The API's page
// cache (domain/common/list-cache.ts) serves a rendered page while its version is unchanged.
// - xid8 (pg_current_xact_id) never repeats on a cluster, even across TRUNCATE or a dropped and
//   recreated database: an old cached page can never match a new state (no ABA).
// - Progress writes (every second while a job runs) change only progress_* columns, which no
//   list shows or sorts by: they bump nothing, so they take no lock on the version row.
// - Projects are bumped in sorted order, so two multi-project statements lock in one order.
// - TRUNCATE cannot name projects: it drops every version (an absent version is never cached).
// Migrations import nothing from src/.

const PROGRESS = [
  'progress_operation',
  'progress_bytes_done',
  'progress_bytes_total',
  'progress_started_at',
  'progress_updated_at',
  'progress_phase',
  'progress_bytes_read',
  'progress_bytes_stored',
  'progress_rate_bytes_per_sec',
  'progress_job_id',
  'progress_attempt',
];
const progressKeys = `ARRAY[${PROGRESS.map((c) => `'${c}'`).join(',')}]::text[]`;

// Sets each project's version to this transaction's id, in project order (one lock order for
// all writers); a row this transaction already set is left alone. Inlined in each trigger
// function: PL/pgSQL caches its plan, an SQL function would be planned on every call.
const BUMP = sql.raw(`IF projects IS NOT NULL THEN
      INSERT INTO list_versions AS v (project_id, version)
      SELECT p, pg_current_xact_id() FROM unnest(projects) AS p ORDER BY p
      ON CONFLICT (project_id) DO UPDATE SET version = EXCLUDED.version
      WHERE v.version IS DISTINCT FROM EXCLUDED.version;
    END IF;`);

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE list_versions (
    project_id varchar(255) PRIMARY KEY,
    version xid8 NOT NULL
  ) WITH (fillfactor = 50)`.execute(db);

  const notShown = sql.raw(progressKeys);
  await sql`CREATE FUNCTION list_versions_backups() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE projects text[];
  BEGIN
    IF TG_OP = 'INSERT' THEN
      SELECT array_agg(DISTINCT n.project_id) INTO projects FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
      SELECT array_agg(DISTINCT o.project_id) INTO projects FROM old_rows o;
    ELSE
      -- Each project (either side: a moved row bumps both) with a row whose shown columns
      -- changed. NOTE: EXISTS stops at the first such row: a bulk update compares one row a project.
      SELECT array_agg(ps.p) INTO projects
      FROM (SELECT project_id FROM old_rows UNION SELECT project_id FROM new_rows) AS ps(p)
      WHERE EXISTS (
        SELECT 1 FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
        WHERE (o.project_id = ps.p OR n.project_id = ps.p)
          AND (o.id IS NULL OR n.id IS NULL OR o.project_id <> n.project_id
               OR (to_jsonb(o) - ${notShown}) IS DISTINCT FROM (to_jsonb(n) - ${notShown})));
    END IF;
    ${BUMP}
    RETURN NULL;
  END $$`.execute(db);

  await sql`CREATE FUNCTION list_versions_backup_metadata() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE projects text[];
  BEGIN
    -- A metadata row whose backup is gone went with it: the backups trigger bumped that project.
    IF TG_OP = 'INSERT' THEN
      SELECT array_agg(DISTINCT b.project_id) INTO projects FROM backups b WHERE b.id IN (SELECT backup_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
      SELECT array_agg(DISTINCT b.project_id) INTO projects FROM backups b WHERE b.id IN (SELECT backup_id FROM old_rows);
    ELSE
      SELECT array_agg(DISTINCT b.project_id) INTO projects FROM backups b
      WHERE b.id IN (SELECT backup_id FROM old_rows UNION SELECT backup_id FROM new_rows);
    END IF;
    ${BUMP}
    RETURN NULL;
  END $$`.execute(db);

  await sql`CREATE FUNCTION list_versions_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    DELETE FROM list_versions;
    RETURN NULL;
  END $$`.execute(db);

  // NOTE: a trigger with transition tables may fire on one event only: three per table.
  for (const table of ['backups', 'backup_metadata']) {
    const fn = sql.raw(`list_versions_${table}()`);
    const t = sql.table(table);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_list_version_ins`)} AFTER INSERT ON ${t}
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_list_version_upd`)} AFTER UPDATE ON ${t}
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_list_version_del`)} AFTER DELETE ON ${t}
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_list_version_trunc`)} AFTER TRUNCATE ON ${t}
      FOR EACH STATEMENT EXECUTE FUNCTION list_versions_truncate()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['backups', 'backup_metadata'])
    for (const suffix of ['ins', 'upd', 'del', 'trunc'])
      await sql`DROP TRIGGER IF EXISTS ${sql.raw(`${table}_list_version_${suffix}`)} ON ${sql.table(table)}`.execute(db);
  await sql`DROP FUNCTION IF EXISTS list_versions_backups(), list_versions_backup_metadata(), list_versions_truncate()`.execute(db);
  await sql`DROP TABLE IF EXISTS list_versions`.execute(db);
}

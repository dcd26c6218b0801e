import { type Kysely, sql } from 'kysely';

// A version per project of everything a backup list page shows (backups and their metadata):
// the id of the last transaction that changed it, written by triggers in that same transaction,
// so a snapshot sees a page's rows and its version together. The API's page cache
// (domain/common/list-cache.ts) serves a rendered page while its version is unchanged.
// - xid8 (pg_current_xact_id) never repeats on a cluster, even across TRUNCATE or a dropped and
//   recreated database: an old cached page can never match a new state (no ABA).
// - The triggers are deferred to commit (constraint triggers, INITIALLY DEFERRED): a writer
//   locks its project's version row only while it commits, after every other lock it takes, so
//   the version row adds no lock-order deadlock to transactions that lock backups one by one,
//   and writers of one project wait for each other only for the commit itself.
// - Progress writes (every second while a job runs) change only progress_* columns, which no
//   list shows or sorts by: the WHEN condition, checked at the write, queues nothing for them.
// - A transaction sets each version once (later events of the same transaction skip the write).
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
const notShown = sql.raw(`ARRAY[${PROGRESS.map((c) => `'${c}'`).join(',')}]::text[]`);

// Sets the versions of the projects p and q (either may be null) to this transaction's id, in
// project order; a version this transaction already set is left alone.
const BUMP = sql.raw(`INSERT INTO list_versions AS v (project_id, version)
      SELECT DISTINCT x, pg_current_xact_id() FROM (VALUES (p), (q)) AS t(x) WHERE x IS NOT NULL ORDER BY x
      ON CONFLICT (project_id) DO UPDATE SET version = EXCLUDED.version
      WHERE v.version IS DISTINCT FROM EXCLUDED.version;`);

const TRIGGERS = ['backups', 'backup_metadata'].flatMap((t) => ['ins', 'upd', 'del', 'trunc'].map((s) => [t, `${t}_list_version_${s}`]));

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE list_versions (
    project_id varchar(255) PRIMARY KEY,
    version xid8 NOT NULL
  ) WITH (fillfactor = 50)`.execute(db);
  // Projects that have backups already: cacheable from the start.
  await sql`INSERT INTO list_versions (project_id, version) SELECT DISTINCT project_id, pg_current_xact_id() FROM backups`.execute(db);

  // A moved row (project_id changed) bumps both projects.
  await sql`CREATE FUNCTION list_versions_backups() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE p text; q text;
  BEGIN
    IF TG_OP <> 'DELETE' THEN p := NEW.project_id; END IF;
    IF TG_OP <> 'INSERT' THEN q := OLD.project_id; END IF;
    ${BUMP}
    RETURN NULL;
  END $$`.execute(db);

  // NOTE: runs at commit: a backup deleted in the same transaction is gone (its metadata went
  // with it), and the backups trigger bumped that project.
  await sql`CREATE FUNCTION list_versions_backup_metadata() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE p text; q text;
  BEGIN
    IF TG_OP <> 'DELETE' THEN SELECT b.project_id INTO p FROM backups b WHERE b.id = NEW.backup_id; END IF;
    IF TG_OP <> 'INSERT' THEN SELECT b.project_id INTO q FROM backups b WHERE b.id = OLD.backup_id; END IF;
    ${BUMP}
    RETURN NULL;
  END $$`.execute(db);

  await sql`CREATE FUNCTION list_versions_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    DELETE FROM list_versions;
    RETURN NULL;
  END $$`.execute(db);

  for (const table of ['backups', 'backup_metadata']) {
    const fn = sql.raw(`list_versions_${table}()`);
    const t = sql.table(table);
    const deferred = sql`DEFERRABLE INITIALLY DEFERRED FOR EACH ROW`;
    // NOTE: a WHEN naming OLD and NEW needs a trigger of its own event: one per event.
    await sql`CREATE CONSTRAINT TRIGGER ${sql.raw(`${table}_list_version_ins`)} AFTER INSERT ON ${t}
      ${deferred} EXECUTE FUNCTION ${fn}`.execute(db);
    // Every metadata update counts, even one that writes the same values: it moves the row,
    // and a backup's keys are listed in row (ctid) order.
    const changed = table === 'backups' ? sql`WHEN ((to_jsonb(OLD) - ${notShown}) IS DISTINCT FROM (to_jsonb(NEW) - ${notShown}))` : sql``;
    await sql`CREATE CONSTRAINT TRIGGER ${sql.raw(`${table}_list_version_upd`)} AFTER UPDATE ON ${t}
      ${deferred} ${changed} EXECUTE FUNCTION ${fn}`.execute(db);
    await sql`CREATE CONSTRAINT TRIGGER ${sql.raw(`${table}_list_version_del`)} AFTER DELETE ON ${t}
      ${deferred} EXECUTE FUNCTION ${fn}`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_list_version_trunc`)} AFTER TRUNCATE ON ${t}
      FOR EACH STATEMENT EXECUTE FUNCTION list_versions_truncate()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [table, name] of TRIGGERS) await sql`DROP TRIGGER IF EXISTS ${sql.raw(name!)} ON ${sql.table(table!)}`.execute(db);
  await sql`DROP FUNCTION IF EXISTS list_versions_backups(), list_versions_backup_metadata(), list_versions_truncate()`.execute(db);
  await sql`DROP TABLE IF EXISTS list_versions`.execute(db);
}

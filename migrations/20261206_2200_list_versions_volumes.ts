import { type Kysely, sql } from 'kysely';

// The volume and snapshot lists join the project's list version (20261206_2100_list_versions):
// every table whose rows GET /volumes[/detail] and /snapshots[/detail] show bumps it, by the same
// deferred row-level constraint triggers as backups. One version per project for all three
// lists: a change to any of them invalidates the project's cached backup, volume and snapshot
// pages. NOTE: kept single because the lists move together anyway (a backup sets its volume
// `backing-up` and back, a restore or a volume from a backup writes volumes, a snapshot job
// writes the volume's status), and a per-kind version would add a read per kind and a key column.
// - volumes, snapshots: the project is on the row (the backups function, renamed list_versions_rows).
// - volume_metadata, volume_image_metadata, volume_attachments, snapshot_metadata: the owner's project.
//   snapshot_image_metadata is not shown by any list: no trigger.
// - Updates bump when the row changed at all: no list-invisible progress columns here (a
//   snapshot's progress is shown by /snapshots/detail), metadata keys are listed in key order
//   and attachments by attached_at, so an update writing the same values shows nothing new.
// Migrations import nothing from src/.

const OWNED = [
  ['volume_metadata', 'volumes', 'volume_id'],
  ['volume_image_metadata', 'volumes', 'volume_id'],
  ['volume_attachments', 'volumes', 'volume_id'],
  ['snapshot_metadata', 'snapshots', 'snapshot_id'],
] as const;
const TABLES = ['volumes', 'snapshots', ...OWNED.map(([t]) => t)];

// As in 20261206_2100: the projects p and q (either may be null) get this transaction's id, in project order.
const BUMP = sql.raw(`INSERT INTO list_versions AS v (project_id, version)
      SELECT DISTINCT x, pg_current_xact_id() FROM (VALUES (p), (q)) AS t(x) WHERE x IS NOT NULL ORDER BY x
      ON CONFLICT (project_id) DO UPDATE SET version = EXCLUDED.version
      WHERE v.version IS DISTINCT FROM EXCLUDED.version;`);

const fnOf = (table: string) => (table === 'volumes' || table === 'snapshots' ? 'list_versions_rows' : `list_versions_${table}`);

export async function up(db: Kysely<any>): Promise<void> {
  // Projects that have volumes or snapshots already: cacheable from the start.
  await sql`INSERT INTO list_versions (project_id, version)
    SELECT project_id, pg_current_xact_id() FROM (SELECT project_id FROM volumes UNION SELECT project_id FROM snapshots) p
    ON CONFLICT (project_id) DO NOTHING`.execute(db);

  // The backups function reads only the row's project_id: one function for every table that has one.
  await sql`ALTER FUNCTION list_versions_backups() RENAME TO list_versions_rows`.execute(db);

  // NOTE: runs at commit: an owner deleted in the same transaction is gone (its rows went with
  // it by cascade), and the owner's own trigger bumped that project.
  for (const [table, owner, column] of OWNED) {
    const ref = (row: string) => `SELECT o.project_id INTO ${row === 'NEW' ? 'p' : 'q'} FROM ${owner} o WHERE o.id = ${row}.${column};`;
    await sql`CREATE FUNCTION ${sql.raw(`${fnOf(table)}()`)} RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE p text; q text;
    BEGIN
      IF TG_OP <> 'DELETE' THEN ${sql.raw(ref('NEW'))} END IF;
      IF TG_OP <> 'INSERT' THEN ${sql.raw(ref('OLD'))} END IF;
      ${BUMP}
      RETURN NULL;
    END $$`.execute(db);
  }

  for (const table of TABLES) {
    const fn = sql.raw(`${fnOf(table)}()`);
    const t = sql.table(table);
    const deferred = sql`DEFERRABLE INITIALLY DEFERRED FOR EACH ROW`;
    await sql`CREATE CONSTRAINT TRIGGER ${sql.raw(`${table}_list_version_ins`)} AFTER INSERT ON ${t}
      ${deferred} EXECUTE FUNCTION ${fn}`.execute(db);
    await sql`CREATE CONSTRAINT TRIGGER ${sql.raw(`${table}_list_version_upd`)} AFTER UPDATE ON ${t}
      ${deferred} WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION ${fn}`.execute(db);
    await sql`CREATE CONSTRAINT TRIGGER ${sql.raw(`${table}_list_version_del`)} AFTER DELETE ON ${t}
      ${deferred} EXECUTE FUNCTION ${fn}`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_list_version_trunc`)} AFTER TRUNCATE ON ${t}
      FOR EACH STATEMENT EXECUTE FUNCTION list_versions_truncate()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of TABLES)
    for (const s of ['ins', 'upd', 'del', 'trunc'])
      await sql`DROP TRIGGER IF EXISTS ${sql.raw(`${table}_list_version_${s}`)} ON ${sql.table(table)}`.execute(db);
  for (const [table] of OWNED) await sql`DROP FUNCTION IF EXISTS ${sql.raw(`${fnOf(table)}()`)}`.execute(db);
  await sql`ALTER FUNCTION list_versions_rows() RENAME TO list_versions_backups`.execute(db);
  // The versions of projects without backups stay: harmless (a version only ever tags pages).
}

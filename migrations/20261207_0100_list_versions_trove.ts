import { type Kysely, sql } from 'kysely';

// The Trove backup lists (GET /v1.0/{p}/backups and /instances/{id}/backups) join the project's
// list version (20261206_2100_list_versions), bumped by the same deferred row-level constraint
// triggers as the Cinder lists.
// - trove_backups is the only table those lists read: every field of a listed backup is a
//   column of its row (routes/trove/backups.views.ts), so no other table needs a trigger. The
//   instance check before the list reads trove_instances on every request, never from a page.
// - The project is on the row: list_versions_rows() (20261206_2200) serves it as it serves volumes.
// - Updates bump when the row changed at all: no list-invisible progress columns here (a backup's
//   row is written a few times in its life: NEW, BUILDING, COMPLETED or FAILED, deleted).
// - One version per project: a Trove backup's change invalidates the project's cached Cinder
//   pages too, and the other way round (a read per kind would cost more than the rare misses).
// Migrations import nothing from src/.

const TABLE = 'trove_backups';
const EVENTS = ['ins', 'upd', 'del', 'trunc'];

export async function up(db: Kysely<any>): Promise<void> {
  // Projects that have Trove backups already: cacheable from the start. NOTE: a project's
  // existing version may stay: no Trove page was ever cached before these triggers existed.
  await sql`INSERT INTO list_versions (project_id, version)
    SELECT DISTINCT project_id, pg_current_xact_id() FROM trove_backups
    ON CONFLICT (project_id) DO NOTHING`.execute(db);

  const t = sql.table(TABLE);
  const deferred = sql`DEFERRABLE INITIALLY DEFERRED FOR EACH ROW`;
  await sql`CREATE CONSTRAINT TRIGGER trove_backups_list_version_ins AFTER INSERT ON ${t}
    ${deferred} EXECUTE FUNCTION list_versions_rows()`.execute(db);
  await sql`CREATE CONSTRAINT TRIGGER trove_backups_list_version_upd AFTER UPDATE ON ${t}
    ${deferred} WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION list_versions_rows()`.execute(db);
  await sql`CREATE CONSTRAINT TRIGGER trove_backups_list_version_del AFTER DELETE ON ${t}
    ${deferred} EXECUTE FUNCTION list_versions_rows()`.execute(db);
  await sql`CREATE TRIGGER trove_backups_list_version_trunc AFTER TRUNCATE ON ${t}
    FOR EACH STATEMENT EXECUTE FUNCTION list_versions_truncate()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const s of EVENTS) await sql`DROP TRIGGER IF EXISTS ${sql.raw(`${TABLE}_list_version_${s}`)} ON ${sql.table(TABLE)}`.execute(db);
  // The versions of projects with only Trove backups stay: harmless (a version only ever tags pages).
}

import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { describe, expect, it } from 'vitest';
import { backupViewColumns } from '../../src/db/backup-views-repository.js';
import { selectBackupJson } from '../../src/db/backup-views-json.js';
import { listBackups } from '../../src/db/backups-list-repository.js';
import { adjustDependents, newestAvailableBackup, transitionBackup } from '../../src/db/backups-repository.js';
import type { Database } from '../../src/db/schema.js';
import { BACKUP_LIST_RULES } from '../../src/domain/backups/reads.js';
import { parseListParams } from '../../src/domain/common/list-params.js';

/** The important backup queries, compiled and snapshotted for review (STYLE rule 12). */

function capture(): { db: Kysely<Database>; sql: string[] } {
  const sql: string[] = [];
  const db = new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (e) => {
      if (e.level === 'query') sql.push(e.query.sql);
    },
  });
  return { db, sql };
}

describe('backup SQL', () => {
  it('a status change is one compare-and-set UPDATE ... WHERE status = ANY(...) RETURNING', async () => {
    const { db, sql } = capture();
    await transitionBackup(db, 'b', ['available', 'error'], { status: 'deleting' });
    expect(sql).toMatchSnapshot();
    expect(sql[0]).toMatch(
      /^update "backups" set .* where "id" = \$\d+ and "deleted" = \$\d+ and "status" = ANY\(\$\d+::text\[\]\) returning \*$/,
    );
  });

  it('the dependent counter moves atomically and never below zero', async () => {
    const { db, sql } = capture();
    await adjustDependents(db, 'p', -1);
    expect(sql[0]).toBe('update "backups" set "num_dependent_backups" = GREATEST(0, num_dependent_backups + $1) where "id" = $2');
  });

  it('the incremental parent is the newest available backup, locked FOR SHARE', async () => {
    const { db, sql } = capture();
    await newestAvailableBackup(db, 'v', 'p', new Date(0));
    expect(sql).toMatchSnapshot();
    expect(sql[0]).toContain('for share');
  });

  it('a member list with a LIKE filter, name sort and count', async () => {
    const { db, sql } = capture();
    const ctx = { requestId: 'r', userId: 'u', projectId: 'p1', roles: ['member', 'reader'], isAdmin: false };
    const params = parseListParams(
      { 'name~': 'x', sort: 'name:asc', limit: '10', with_count: 'true' },
      ctx,
      () => true,
      BACKUP_LIST_RULES,
      1000,
    );
    // The dummy driver returns no rows, so the count query's TakeFirstOrThrow throws after logging.
    await listBackups(db, { projectId: 'p1' }, params, { id: 'm' }, backupViewColumns({ metadata: true })).catch(() => undefined);
    expect(sql).toHaveLength(2);
    expect(sql).toMatchSnapshot();
  });

  it('list pages read timestamps as text under other names, so ORDER BY "created_at" still sorts by time', async () => {
    const { db, sql } = capture();
    const ctx = { requestId: 'r', userId: 'u', projectId: 'p1', roles: ['member', 'reader'], isAdmin: false };
    const params = parseListParams({ sort: 'updated_at:asc,data_timestamp:desc' }, ctx, () => true, BACKUP_LIST_RULES, 1000);
    await listBackups(db, { projectId: 'p1' }, params, null, backupViewColumns({ metadata: false }));
    expect(sql[0]).toContain('order by "updated_at" asc, "data_timestamp" desc, "created_at" asc, "id" asc');
    expect(sql[0]).not.toMatch(/ as "(created_at|updated_at|data_timestamp)"/);
    expect(sql[0]).not.toContain('backup_metadata');
  });

  it('a detail page rendered by Postgres reads one JSON text and the id per row, links from parameters', async () => {
    const { db, sql } = capture();
    const ctx = { requestId: 'r', userId: 'u', projectId: 'p1', roles: ['admin'], isAdmin: true };
    const params = parseListParams({ limit: '100' }, ctx, () => true, BACKUP_LIST_RULES, 1000);
    const detail = { metadata: true, projectId: true, userId: true, encryptionKeyId: true };
    await listBackups(db, { projectId: 'p1' }, params, null, selectBackupJson({ detail, selfPrefix: 'S/', bookmarkPrefix: 'B/' }));
    expect(sql).toMatchSnapshot();
    expect(sql[0]).toContain('order by "created_at" desc, "id" desc');
    expect(sql[0]).not.toContain("'S/'");
  });

  it('a summary page rendered by Postgres reads neither timestamps nor metadata', async () => {
    const { db, sql } = capture();
    const ctx = { requestId: 'r', userId: 'u', projectId: 'p1', roles: ['member'], isAdmin: false };
    const params = parseListParams({}, ctx, () => true, BACKUP_LIST_RULES, 1000);
    await listBackups(db, { projectId: 'p1' }, params, null, selectBackupJson({ detail: null, selfPrefix: 'S/', bookmarkPrefix: 'B/' }));
    expect(sql[0]).not.toMatch(/to_char|backup_metadata|display_description/);
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedRows } from '../../src/db/connection.js';
import { inOneSnapshot, readListVersion } from '../../src/db/list-versions-repository.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

/** The page cache's one read per request: a prepared statement on the pool, Kysely inside a transaction; both read the same. */
describe('readListVersion', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.drop());

  const bump = (project: string) =>
    sql`insert into list_versions (project_id, version) values (${project}, pg_current_xact_id())
        on conflict (project_id) do update set version = excluded.version`.execute(t.db);

  it('reads the same version through the prepared statement and through a transaction, and null for a project without one', async () => {
    await bump('p1');
    const direct = await readListVersion(t.db, 'p1');
    expect(direct).toMatch(/^[0-9]+$/);
    expect(await inOneSnapshot(t.db, (trx) => readListVersion(trx, 'p1'))).toBe(direct);
    expect(await readListVersion(t.db, 'nobody')).toBeNull();
    expect(await inOneSnapshot(t.db, (trx) => readListVersion(trx, 'nobody'))).toBeNull();
  });

  it('sees every new version at once on every pooled connection (prepared once per connection, executed anew)', async () => {
    await bump('p2');
    let last = await readListVersion(t.db, 'p2');
    for (let i = 0; i < 6; i++) {
      await bump('p2');
      // Five reads at once spread over the pool's five connections.
      const seen = await Promise.all(Array.from({ length: 5 }, () => readListVersion(t.db, 'p2')));
      expect(new Set(seen).size).toBe(1);
      expect(BigInt(seen[0]!)).toBeGreaterThan(BigInt(last!));
      last = seen[0]!;
    }
  });

  it('prepares only on a handle createDb made: a transaction reads through Kysely on its own connection', async () => {
    expect(await preparedRows(t.db, 'one_row', 'select 1 as one', [])).toEqual([{ one: 1 }]);
    await t.db.transaction().execute(async (trx) => {
      expect(await preparedRows(trx, 'one_row', 'select 1 as one', [])).toBeNull();
    });
  });
});

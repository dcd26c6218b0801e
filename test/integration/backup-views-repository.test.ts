import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/connection.js';
import { findBackupView } from '../../src/db/backup-views-repository.js';
import { findBackup } from '../../src/db/backups-repository.js';
import { cinderTimestamp, cinderTimestampFromUtc } from '../../src/http/format.js';
import { type TestDatabase, createTestDatabase } from '../helpers/db.js';
import { insertBackups } from './backups-fixtures.js';

/** The reads behind the backup views: UTC text timestamps in any session TimeZone, metadata in one query. */

const P = '33333333333333333333333333333333';

describe('backup view reads', () => {
  let t: TestDatabase;
  let ids: string[];
  beforeAll(async () => {
    t = await createTestDatabase();
    ids = await insertBackups(t.db, [{ project_id: P }, { project_id: P }, { project_id: P }]);
    // Microseconds (now() keeps them), a whole second, a fraction with trailing zeros, a NULL.
    await sql`UPDATE backups SET created_at = '2026-03-29 00:59:59.999999+00', updated_at = '2026-03-29 01:00:00.000001+00', data_timestamp = '1999-12-31 23:59:59+00' WHERE id = ${ids[0]}`.execute(
      t.db,
    );
    await sql`UPDATE backups SET created_at = '2026-10-25 01:30:00.5+00', updated_at = NULL, data_timestamp = '2026-01-01 00:00:00.120+00' WHERE id = ${ids[1]}`.execute(
      t.db,
    );
    await sql`UPDATE backups SET created_at = now(), updated_at = now() WHERE id = ${ids[2]}`.execute(t.db);
    await t.db
      .insertInto('backup_metadata')
      .values([
        { backup_id: ids[0]!, key: 'zeta', value: '1' },
        { backup_id: ids[0]!, key: 'alpha', value: '"quoted" \\ é' },
      ])
      .execute();
  });
  afterAll(async () => t.drop());

  it.each(['UTC', 'Asia/Kathmandu', 'America/St_Johns', 'Pacific/Chatham'])(
    'timestamps render as through a Date (milliseconds, UTC) in a session with TimeZone %s',
    async (zone) => {
      const url = new URL(t.url);
      url.searchParams.set('options', `-c TimeZone=${zone}`);
      const db = createDb({ url: url.toString(), poolSize: 1 });
      try {
        expect((await sql<{ tz: string }>`SELECT current_setting('TimeZone') AS tz`.execute(db)).rows[0]!.tz).toBe(zone);
        for (const id of ids) {
          const view = (await findBackupView(db, id, { projectId: P }, { metadata: false }))!;
          const row = (await findBackup(db, id, { projectId: P }))!;
          expect(cinderTimestampFromUtc(view.created_at_utc)).toBe(cinderTimestamp(row.created_at));
          expect(cinderTimestampFromUtc(view.updated_at_utc)).toBe(cinderTimestamp(row.updated_at));
          expect(cinderTimestampFromUtc(view.data_timestamp_utc)).toBe(cinderTimestamp(row.data_timestamp));
        }
      } finally {
        await db.destroy();
      }
    },
  );

  it('reads the metadata map only when asked: in the order it was written, {} when there is none', async () => {
    const withMeta = await findBackupView(t.db, ids[0]!, { projectId: P }, { metadata: true });
    expect(JSON.stringify(withMeta!.metadata)).toBe('{"zeta":"1","alpha":"\\"quoted\\" \\\\ é"}');
    expect((await findBackupView(t.db, ids[1]!, { projectId: P }, { metadata: true }))!.metadata).toEqual({});
    expect((await findBackupView(t.db, ids[0]!, { projectId: P }, { metadata: false }))!).not.toHaveProperty('metadata');
  });

  it('sees only live backups of the scope', async () => {
    expect(await findBackupView(t.db, ids[0]!, { projectId: 'other' }, { metadata: false })).toBeUndefined();
    expect(await findBackupView(t.db, ids[0]!, { projectId: null }, { metadata: false })).toBeDefined();
    expect(await findBackupView(t.db, 'not-a-uuid', { projectId: null }, { metadata: false })).toBeUndefined();
  });
});

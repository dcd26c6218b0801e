import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe('migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => t.drop());

  it('create every table from an empty database, and a second run applies nothing', async () => {
    const applied = await migrateToLatest(t.db);
    expect(applied).toContain('0001_initial');
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(t.db);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'backup_metadata',
        'backups',
        'jobs',
        'quotas',
        'snapshot_metadata',
        'snapshots',
        'volume_attachments',
        'volume_metadata',
        'volumes',
      ]),
    );
    expect(await migrateToLatest(t.db)).toEqual([]);
  });
});

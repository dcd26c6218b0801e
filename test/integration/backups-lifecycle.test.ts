import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GiB } from '../../src/volumes/volume-backend.js';
import { type BackupTestEnv, P1, backupTestEnv, makeVolume } from './backups-fixtures.js';

/**
 * The whole path through the HTTP API with the real engine and the job worker: volume with
 * data, full backup, 1% changed, incremental, restore both into new volumes, compare bytes,
 * delete in the right order. Run on the posix store and on S3 (moto).
 */

const REGION = 64 * 1024 * 1024; // the first 64 MiB of the 1 GiB volume carry data
const BLOCK = 32768;

async function writeAt(path: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(data, 0, data.length, offset);
  } finally {
    await fh.close();
  }
}

const stores: Array<[string, () => Record<string, string> | null]> = [
  ['posix', () => ({})],
  [
    's3 (moto)',
    () => {
      const ep = inject('motoEndpoint');
      return ep
        ? { BACKUP_STORE: 's3', S3_ENDPOINT: ep, S3_ACCESS_KEY_ID: 'test', S3_SECRET_ACCESS_KEY: 'test', S3_BUCKET: `lc${Date.now()}` }
        : null;
    },
  ],
];

describe.each(stores)('backup lifecycle through the API on %s', (_label, envFor) => {
  const storeEnv = envFor();
  let env: BackupTestEnv;
  beforeAll(async () => {
    if (storeEnv) env = await backupTestEnv(storeEnv, true);
  });
  afterAll(async () => env?.close());

  it.skipIf(!storeEnv)(
    'full + incremental backups restore byte-identically into new volumes, then delete child before parent',
    async () => {
      const vol = await makeVolume(env, P1, { size: 1, name: 'db01' });
      await env.t.db.insertInto('volume_metadata').values({ volume_id: vol, key: 'tier', value: 'gold' }).execute();
      const path = env.deps.volumes.volumePath(vol);
      // Random data, a text-like run and zeros (the rest of the sparse file).
      await writeAt(path, 0, randomBytes(REGION / 2));
      await writeAt(path, REGION / 2, Buffer.from('lorem ipsum dolor sit amet '.repeat(REGION / 2 / 27)));
      const v1 = await readFile(path);

      const full = await env.call('POST', '/backups', P1, {
        backup: { volume_id: vol, name: 'full', description: null, container: null, incremental: false, force: false, snapshot_id: null },
      });
      expect(full.status).toBe(202);
      expect(Object.keys(full.json.backup).sort()).toEqual(['id', 'links', 'name']);
      const fullId = full.json.backup.id;
      const vDuring = await env.t.db
        .selectFrom('volumes')
        .select(['status', 'previous_status'])
        .where('id', '=', vol)
        .executeTakeFirstOrThrow();
      expect(['backing-up', 'available']).toContain(vDuring.status);
      const fb = await env.waitBackup(fullId, P1, (b) => b.status !== 'creating');
      expect(fb.status).toBe('available');
      expect(fb.is_incremental).toBe(false);
      expect(fb.object_count).toBeGreaterThan(0);
      expect(fb.container).toBe(env.deps.store.defaultContainer);
      const volAfter = await env.t.db
        .selectFrom('volumes')
        .select(['status', 'previous_status'])
        .where('id', '=', vol)
        .executeTakeFirstOrThrow();
      expect(volAfter).toEqual({ status: 'available', previous_status: 'backing-up' });

      const progress = await env.call('GET', `/backups/${fullId}/progress`, P1);
      expect(progress.status).toBe(200);
      expect(progress.json.progress).toMatchObject({ operation: 'backup', percent: 100, bytes_done: GiB, bytes_total: GiB });

      // Change 1% of the data region's blocks.
      const blocks = REGION / BLOCK;
      for (let i = 0; i < blocks / 100; i++) await writeAt(path, Math.floor(Math.random() * blocks) * BLOCK, randomBytes(BLOCK));
      const v2 = await readFile(path);
      expect(v2.equals(v1)).toBe(false);

      const inc = await env.call('POST', '/backups', P1, { backup: { volume_id: vol, name: 'inc', incremental: true } });
      expect(inc.status).toBe(202);
      const incId = inc.json.backup.id;
      const ib = await env.waitBackup(incId, P1, (b) => b.status !== 'creating');
      expect(ib).toMatchObject({ status: 'available', is_incremental: true, has_dependent_backups: false });
      expect(ib.object_count).toBeGreaterThan(0);
      expect(ib.object_count).toBeLessThan(fb.object_count * 8);
      const fb2 = await env.waitBackup(fullId, P1, () => true);
      expect(fb2.has_dependent_backups).toBe(true);

      // Restore each into a new volume and compare every byte.
      for (const [id, expected] of [
        [fullId, v1],
        [incId, v2],
      ] as const) {
        const res = await env.call('POST', `/backups/${id}/restore`, P1, { restore: { volume_id: null, name: null } });
        expect(res.status).toBe(202);
        expect(res.json.restore).toEqual({ backup_id: id, volume_id: expect.any(String), volume_name: `restore_backup_${id}` });
        await env.waitBackup(id, P1, (b) => b.status === 'available');
        const target = await env.t.db
          .selectFrom('volumes')
          .selectAll()
          .where('id', '=', res.json.restore.volume_id)
          .executeTakeFirstOrThrow();
        expect(target.status).toBe('available');
        expect(target.display_name).toBe('db01'); // volume_meta applied to an auto-named target
        const meta = await env.t.db.selectFrom('volume_metadata').selectAll().where('volume_id', '=', target.id).execute();
        expect(Object.fromEntries(meta.map((m) => [m.key, m.value]))).toEqual({ tier: 'gold', src_backup_id: id });
        const got = await readFile(env.deps.volumes.volumePath(target.id));
        expect(got.length).toBe(expected.length);
        expect(got.equals(expected)).toBe(true);
      }

      // The parent cannot go before its child; child first, then parent.
      const early = await env.call('DELETE', `/backups/${fullId}`, P1);
      expect(early.status).toBe(400);
      expect(early.json.badRequest.message).toBe('Invalid backup: Incremental backups exist for this backup.');
      expect((await env.call('DELETE', `/backups/${incId}`, P1)).status).toBe(202);
      await env.waitBackup(incId, P1, (b) => b.status === 'http 404');
      const fb3 = await env.waitBackup(fullId, P1, (b) => b.has_dependent_backups === false);
      expect(fb3.status).toBe('available');
      expect((await env.call('DELETE', `/backups/${fullId}`, P1)).status).toBe(202);
      await env.waitBackup(fullId, P1, (b) => b.status === 'http 404');
      // Every object of both backups is gone from the store.
      const left = await env.deps.store.list(env.deps.store.defaultContainer, `volume_${vol}/`);
      expect(left).toEqual([]);
    },
    480_000,
  );
});

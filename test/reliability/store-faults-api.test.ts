import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type BackupTestEnv, P1, backupTestEnv, makeVolume } from '../integration/backups-fixtures.js';
import { writeAt } from './api-world.js';
import { startFaultProxy, totalInjected, type FaultProxy } from './fault-proxy.js';
import { baseSeed, bucketName, report, rounds, s3Store } from './helpers.js';

/**
 * The whole job path (API -> job -> engine -> S3 store) through the fault proxy to moto:
 * every backup ends `available` and restores byte-identically, or `error` with a fail_reason;
 * none hangs; a failed backup, once deleted, leaves no object behind.
 */
const moto = inject('motoEndpoint');
const seed = baseSeed();
let proxy: FaultProxy;
let env: BackupTestEnv;
let bucket: string;
const figures = { backups: 0, available: 0, failed: 0, restoresOk: 0, restoresFailed: 0, deletedClean: 0 };

describe.skipIf(moto === null)('object store faults through the API and job worker', () => {
  beforeAll(async () => {
    proxy = await startFaultProxy(moto!, { seed, rate: 0.1, maxStallMs: 10_000 });
    bucket = bucketName('api');
    env = await backupTestEnv(
      {
        BACKUP_STORE: 's3',
        S3_ENDPOINT: proxy.endpoint,
        S3_ACCESS_KEY_ID: 'test',
        S3_SECRET_ACCESS_KEY: 'test',
        S3_BUCKET: bucket,
        S3_TIMEOUT_MS: '1000',
        S3_MAX_ATTEMPTS: '5',
        BACKUP_OBJECT_SIZE: String(8 * 1024 * 1024),
        QUOTA_BACKUPS: '-1',
        QUOTA_VOLUMES: '-1',
      },
      true,
    );
  }, 120_000);
  afterAll(async () => {
    report('store-faults-api', {
      seed,
      requests: proxy?.stats.requests,
      injected: proxy ? totalInjected(proxy) : 0,
      byKind: proxy?.stats.injected,
      ...figures,
    });
    await env?.close();
    await proxy?.close();
  });

  it.each(Array.from({ length: rounds(2, 15) }, (_, i) => i))(
    'backup %i ends available and restores byte-identically, or ends in error and deletes clean',
    async () => {
      const vol = await makeVolume(env, P1, { size: 1 });
      const data = randomBytes(1024 * 1024 + 777);
      await writeAt(env.deps.volumes.volumePath(vol), 0, data);
      const c = await env.call('POST', '/backups', P1, { backup: { volume_id: vol, name: 'faulty' } });
      expect(c.status).toBe(202);
      figures.backups++;
      const b = await env.waitBackup(c.json.backup.id, P1, (x) => x.status !== 'creating', 120_000);
      const check = s3Store(moto!, bucket);
      try {
        if (b.status === 'error') {
          figures.failed++;
          expect(b.fail_reason).toMatch(/\S{5,}/);
          expect(b.fail_reason.length).toBeLessThanOrEqual(255);
          expect((await env.call('DELETE', `/backups/${b.id}`, P1)).status).toBe(202);
          const gone = await env.waitBackup(b.id, P1, (x) => x.status !== 'deleting', 120_000);
          if (gone.status === 'http 404') {
            const row = await env.t.db.selectFrom('backups').select('service_metadata').where('id', '=', b.id).executeTakeFirstOrThrow();
            if (row.service_metadata) expect(await check.list(bucket, row.service_metadata)).toEqual([]);
            figures.deletedClean++;
          } else {
            expect(gone.status).toBe('error'); // a delete that itself met faults: retryable, not stuck
          }
          return;
        }
        expect(b.status).toBe('available');
        figures.available++;
        const r = await env.call('POST', `/backups/${b.id}/restore`, P1, { restore: { name: 'back' } });
        expect(r.status).toBe(202);
        const target = r.json.restore.volume_id as string;
        const deadline = Date.now() + 120_000;
        let status = 'creating';
        while (['creating', 'restoring-backup'].includes(status) && Date.now() < deadline) {
          status = (await env.t.db.selectFrom('volumes').select('status').where('id', '=', target).executeTakeFirstOrThrow()).status;
          await new Promise((res) => setTimeout(res, 100));
        }
        if (status === 'available') {
          figures.restoresOk++;
          const got = await readFile(env.deps.volumes.volumePath(target));
          expect(got.subarray(0, data.length).equals(data)).toBe(true);
        } else {
          figures.restoresFailed++;
          expect(['error', 'error_restoring']).toContain(status);
        }
      } finally {
        await check.close();
      }
    },
    400_000,
  );
});

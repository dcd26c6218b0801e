import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordBackupPrefix } from '../../src/db/backup-prefixes-repository.js';
import { backupPrefixOf, collectOrphans } from '../../src/domain/backups/orphan-gc.js';
import { PosixObjectStore } from '../../src/storage/posix-store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const run = promisify(execFile);
const container = 'volumebackups';
let t: TestDatabase;
let dir: string;
let store: PosixObjectStore;

const prefixFor = (id: string) => `volume_${randomUUID()}/20261123185700/az_nova_backup_${id}`;

/**
 * A backup row (deleted or not) and, with `objects`, its Cinder objects in the store, under a
 * prefix recorded as the backup job records it (before its first object).
 */
async function backup(
  opts: { deleted?: boolean; objects?: number; status?: string; in?: string; volumeId?: string } = {},
): Promise<{ id: string; prefix: string; keys: string[] }> {
  const id = randomUUID();
  const prefix = opts.volumeId ? `volume_${opts.volumeId}/20261123185700/az_nova_backup_${id}` : prefixFor(id);
  const where = opts.in ?? container;
  await recordBackupPrefix(t.db, { container: where, prefix, backupId: id });
  await t.db
    .insertInto('backups')
    .values({
      id,
      project_id: 'p1',
      user_id: 'u1',
      volume_id: randomUUID(),
      status: opts.deleted ? 'deleted' : (opts.status ?? 'available'),
      size: 1,
      data_timestamp: new Date(),
      container: where,
      service_metadata: prefix,
      deleted: opts.deleted ?? false,
      deleted_at: opts.deleted ? new Date() : null,
    })
    .execute();
  const keys = [
    `${prefix}_metadata`,
    `${prefix}_sha256file`,
    ...Array.from({ length: opts.objects ?? 2 }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`),
  ];
  for (const k of keys) await store.put(where, k, Buffer.from(k));
  return { id, prefix, keys };
}

beforeEach(async () => {
  t = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'rel-gc-'));
  store = new PosixObjectStore(join(dir, 'backups'), container);
  await store.ensureContainer(container);
});
afterEach(async () => {
  await store.close();
  await t.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('orphan object garbage collection', () => {
  it('reports objects of deleted rows and of no row (under prefixes it wrote) in a dry run, and removes nothing', async () => {
    const live = await backup({ objects: 3 });
    const creating = await backup({ status: 'creating', objects: 1 });
    const gone = await backup({ deleted: true, objects: 2 });
    // A prefix the service wrote whose row no longer exists at all.
    const strayId = randomUUID();
    const strayPrefix = prefixFor(strayId);
    await recordBackupPrefix(t.db, { container, prefix: strayPrefix, backupId: strayId });
    const stray = `${strayPrefix}-00001`;
    await store.put(container, stray, Buffer.from('x'));
    await store.put(container, 'not-ours/readme', Buffer.from('x'));

    const [report] = await collectOrphans(t.db, store);
    expect(report!.orphans.sort()).toEqual([...gone.keys, stray].sort());
    expect(report!.scanned).toBe(live.keys.length + creating.keys.length + gone.keys.length + 1);
    expect(report!.byBackupPrefix[gone.prefix]).toBe(gone.keys.length);
    expect(report!.deleted).toBe(0);
    expect(await store.list(container, gone.prefix)).toHaveLength(gone.keys.length);
  });

  it('with delete removes exactly the orphans and keeps every live backup object', async () => {
    const live = await backup({ objects: 3 });
    const gone = await backup({ deleted: true, objects: 2 });
    const [report] = await collectOrphans(t.db, store, { delete: true });
    expect(report!.deleted).toBe(gone.keys.length);
    expect(await store.list(container, 'volume_')).toEqual([...live.keys].sort());
    const [again] = await collectOrphans(t.db, store);
    expect(again!.orphans).toEqual([]);
  });

  it("scans database (trove_) prefixes by default: a deleted database backup's objects go, a live one's stay", async () => {
    const instanceId = randomUUID();
    const troveBackup = async (deleted: boolean) => {
      const id = randomUUID();
      const prefix = `trove_${instanceId}/${id}`;
      await t.db
        .insertInto('trove_backups')
        .values({
          id,
          project_id: 'p1',
          user_id: 'u1',
          instance_id: instanceId,
          name: 'db',
          status: deleted ? 'DELETE_FAILED' : 'COMPLETED',
          datastore_type: 'postgresql',
          datastore_version: '15',
          datastore_version_id: randomUUID(),
          container,
          prefix,
          deleted,
        })
        .execute();
      const keys = [`${prefix}_manifest`, `${prefix}_f000001p0-00001`, `${prefix}_f000001p0_metadata`];
      for (const k of keys) await store.put(container, k, Buffer.from(k));
      return keys;
    };
    const live = await troveBackup(false);
    const failed = await troveBackup(true);
    const volumeLive = await backup({ objects: 1 });
    const [report] = await collectOrphans(t.db, store, { delete: true });
    expect(report!.orphans).toEqual([...failed].sort());
    expect(report!.scanned).toBe(live.length + failed.length + volumeLive.keys.length);
    expect(await store.list(container, 'trove_')).toEqual([...live].sort());
    // An explicit prefix still narrows the scan.
    const [volumesOnly] = await collectOrphans(t.db, store, { prefix: 'volume_' });
    expect(volumesOnly!.scanned).toBe(volumeLive.keys.length);
  });

  it('gc --delete leaves alone objects it never wrote: foreign Cinder-named objects, another bucket, nested containers', async () => {
    const gone = await backup({ deleted: true, objects: 1 });
    // Another application's (or deployment's) Cinder-named objects in the service's container
    // and in a container a tenant named once.
    const foreign = [
      `volume_0000/20200101000000/az_nova_backup_${randomUUID()}-00001`,
      `volume_0000/20200101000000/az_nova_backup_${randomUUID()}_metadata`,
    ];
    for (const k of foreign) await store.put(container, k, Buffer.from('theirs'));
    await store.ensureContainer('other-app');
    for (const k of foreign) await store.put('other-app', k, Buffer.from('theirs'));
    const inOther = await backup({ in: 'other-app', objects: 1 });
    // Live backups in containers nested inside the default one (written before names were checked),
    // one of them named like a volume prefix: the default container's listing shows their objects.
    const nestedA = await backup({ in: `${container}/volume_x`, objects: 2 });
    const vol = randomUUID();
    const nestedB = await backup({ in: `${container}/volume_${vol}`, objects: 2, volumeId: vol });

    const env = { ...process.env, DATABASE_URL: t.url, DATA_DIR: dir, BACKUP_STORE: 'posix', S3_BUCKET: container, LOG_LEVEL: 'silent' };
    const out = await run(join(process.cwd(), 'node_modules/.bin/tsx'), ['src/cli/gc.ts', '--delete'], { env, timeout: 60_000 });
    const reports: Array<{ container: string; orphans: string[] }> = JSON.parse(out.stdout).containers;
    const byContainer = Object.fromEntries(reports.map((r) => [r.container, r]));
    expect(byContainer[container]!.orphans.sort()).toEqual([...gone.keys].sort());
    expect(byContainer['other-app']!.orphans).toEqual([]);
    for (const k of foreign) {
      expect(await store.get(container, k)).toEqual(Buffer.from('theirs'));
      expect(await store.get('other-app', k)).toEqual(Buffer.from('theirs'));
    }
    for (const b of [inOther]) for (const k of b.keys) expect(await store.get('other-app', k)).toEqual(Buffer.from(k));
    for (const [c, b] of [
      [`${container}/volume_x`, nestedA],
      [`${container}/volume_${vol}`, nestedB],
    ] as const)
      for (const k of b.keys) expect(await store.get(c, k)).toEqual(Buffer.from(k));
    // Asked for explicitly, the container around the nested ones still deletes nothing of theirs.
    const [explicit] = await collectOrphans(t.db, store, { delete: true, containers: [container] });
    expect(explicit!.orphans).toEqual([]);
  }, 120_000);

  it('names the backup prefix of each Cinder object name', () => {
    const id = randomUUID();
    const p = prefixFor(id);
    expect(backupPrefixOf(`${p}-00012`)).toBe(p);
    expect(backupPrefixOf(`${p}_sha256file`)).toBe(p);
    expect(backupPrefixOf('odd/key')).toBe('odd/key');
  });

  it('the gc command prints a dry-run report and deletes only with --delete', async () => {
    const gone = await backup({ deleted: true, objects: 1 });
    const live = await backup({ objects: 1 });
    const env = { ...process.env, DATABASE_URL: t.url, DATA_DIR: dir, BACKUP_STORE: 'posix', S3_BUCKET: container, LOG_LEVEL: 'silent' };
    const tsx = join(process.cwd(), 'node_modules/.bin/tsx');
    const dry = await run(tsx, ['src/cli/gc.ts'], { env, timeout: 60_000 });
    const dryReport = JSON.parse(dry.stdout);
    expect(dryReport).toMatchObject({ mode: 'dry-run', orphans: gone.keys.length });
    expect(await store.list(container, gone.prefix)).toHaveLength(gone.keys.length);
    const del = await run(tsx, ['src/cli/gc.ts', '--delete'], { env, timeout: 60_000 });
    expect(JSON.parse(del.stdout)).toMatchObject({ mode: 'delete', orphans: gone.keys.length });
    expect(await store.list(container, 'volume_')).toEqual([...live.keys].sort());
    const bad = await run(tsx, ['src/cli/gc.ts', '--nonsense'], { env, timeout: 60_000 }).catch((e: { code: number }) => e);
    expect((bad as { code: number }).code).toBe(2);
  }, 120_000);
});

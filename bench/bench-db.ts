import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.js';

/** An empty database for one benchmark part, and how to drop it (and stop embedded Postgres). */
export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

async function reachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * Creates the database `name` (dropped first if it exists) on DATABASE_URL's server, else the
 * machine's 127.0.0.1:5432, else an embedded Postgres under `workdir`.
 */
export async function freshDatabase(workdir: string, name: string): Promise<BenchDatabase> {
  let admin = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!admin && (await reachable('postgres://postgres@127.0.0.1:5432/postgres'))) admin = 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!admin) {
    const dir = join(workdir, `pg-${name}`);
    mkdirSync(dir, { recursive: true });
    const e = await startEmbeddedPostgres(dir);
    admin = e.url;
    stopEmbedded = () => e.stop();
  }
  const adminClient = new pg.Client({ connectionString: admin });
  await adminClient.connect();
  await adminClient.query(`DROP DATABASE IF EXISTS ${name}`);
  await adminClient.query(`CREATE DATABASE ${name}`);
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await adminClient.end();
      await stopEmbedded?.();
    },
  };
}

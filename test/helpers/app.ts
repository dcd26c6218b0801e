import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { AppDeps } from '../../src/app-deps.js';
import { buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createDb } from '../../src/db/connection.js';
import { VolumeUploads } from '../../src/domain/volumes/uploads.js';
import { createNoauthStrategy } from '../../src/http/auth/noauth-strategy.js';
import { createObjectStore } from '../../src/storage/create-store.js';
import { FileVolumeBackend } from '../../src/volumes/file-backend.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface TestApp {
  app: FastifyInstance;
  deps: AppDeps;
  config: Config;
  t: TestDatabase;
  dataDir: string;
  /** Closes the app and store, drops the database and removes the data directory. */
  close(): Promise<void>;
}

/**
 * The real app on a fresh database and a temp DATA_DIR: file volumes, the posix store
 * (unless `env` says BACKUP_STORE=s3), noauth. `env` overrides configuration variables,
 * e.g. { NOAUTH_ADMIN_PROJECTS: 'adadadad' } to make other projects plain members.
 */
export async function createTestApp(env: Record<string, string> = {}, overrides: Partial<AppDeps> = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cbt-app-'));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env });
  const t = await createTestDatabase();
  const volumes = new FileVolumeBackend(dataDir);
  await volumes.init();
  const store = createObjectStore(config);
  const deps: AppDeps = {
    config,
    db: t.db,
    uploads: new VolumeUploads(createDb({ url: t.url, poolSize: config.DATA_UPLOADS_PER_PROCESS }), {
      perProject: config.DATA_UPLOADS_PER_PROJECT,
      perProcess: config.DATA_UPLOADS_PER_PROCESS,
    }),
    auth: createNoauthStrategy({
      adminProjects: config.NOAUTH_ADMIN_PROJECTS,
      adminToken: config.NOAUTH_ADMIN_TOKEN,
      memberRoles: config.NOAUTH_ROLES,
    }),
    volumes,
    store,
    metrics: new Registry(),
    logger: false,
    ...overrides,
  };
  const app = await buildApp(deps);
  await app.ready();
  return {
    app,
    deps,
    config,
    t,
    dataDir,
    close: async () => {
      await app.close();
      await deps.store.close();
      await deps.uploads.close();
      await t.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** noauth headers for `user:project`, optionally at a microversion. */
export function authHeaders(project: string, options: { user?: string; version?: string } = {}): Record<string, string> {
  const h: Record<string, string> = { 'x-auth-token': `${options.user ?? 'u0000000'}:${project}` };
  if (options.version) h['openstack-api-version'] = `volume ${options.version}`;
  return h;
}

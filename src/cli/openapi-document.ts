import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { Registry } from 'prom-client';
import type { AppDeps } from '../app-deps.js';
import { buildApp } from '../app.js';
import { type Config, loadConfig } from '../config.js';
import type { Database } from '../db/schema.js';
import { createNoauthStrategy } from '../http/auth/noauth-strategy.js';
import { MemoryObjectStore } from '../storage/memory-store.js';
import { FileVolumeBackend } from '../volumes/file-backend.js';

/**
 * App dependencies that are never used: a Kysely on a DummyDriver (no connection), a memory
 * store, an unopened volume backend. Enough to register every route and read the schemas.
 */
export function inertDeps(config: Config): AppDeps {
  const db = new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  return {
    config,
    db,
    auth: createNoauthStrategy({ adminProjects: config.NOAUTH_ADMIN_PROJECTS, memberRoles: config.NOAUTH_ROLES }),
    volumes: new FileVolumeBackend(config.DATA_DIR),
    store: new MemoryObjectStore(),
    metrics: new Registry(),
    logger: false,
  };
}

/** Recursively sorts object keys so the committed document diffs cleanly. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

/**
 * The OpenAPI document as committed in openapi/openapi.json: pretty JSON, sorted keys,
 * trailing newline. Built from the defaults (never the process environment, so no
 * configured secret or endpoint can leak into it) unless a config is given.
 */
export async function generateOpenApiDocument(config: Config = loadConfig({})): Promise<string> {
  const app = await buildApp(inertDeps(config));
  try {
    await app.ready();
    return `${JSON.stringify(sortKeys(app.swagger()), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

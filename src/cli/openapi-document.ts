import type { FastifyInstance } from 'fastify';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { Registry } from 'prom-client';
import type { AppDeps } from '../app-deps.js';
import { buildApp, buildCbrApp } from '../app.js';
import { type Config, loadConfig } from '../config.js';
import type { Database } from '../db/schema.js';
import { VolumeUploads } from '../domain/volumes/uploads.js';
import { createNoauthStrategy } from '../http/auth/noauth-strategy.js';
import { MemoryObjectStore } from '../storage/memory-store.js';
import { troveOpenApiDocument } from '../routes/trove/openapi.js';
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
    uploads: new VolumeUploads(db, { perProject: 1, perProcess: 1 }),
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
  return documentOf(await buildApp(inertDeps(config)));
}

/** The swagger document of a built app, as committed (then the app is closed). */
async function documentOf(app: FastifyInstance): Promise<string> {
  try {
    await app.ready();
    return `${JSON.stringify(sortKeys(app.swagger()), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

/**
 * The Trove v1.0 document, openapi/trove.json: the /v1.0 routes alone (they are hidden
 * from the Cinder document), generated from the defaults like the Cinder one.
 */
export async function generateTroveOpenApiDocument(config: Config = loadConfig({})): Promise<string> {
  return `${JSON.stringify(sortKeys(await troveOpenApiDocument(inertDeps(config))), null, 2)}\n`;
}

/**
 * The CBR v3 document, openapi/cbr.json: the CBR listener's own routes (paths at its root),
 * generated from the defaults like the Cinder one.
 */
export async function generateCbrOpenApiDocument(config: Config = loadConfig({})): Promise<string> {
  return documentOf(await buildCbrApp(inertDeps(config)));
}

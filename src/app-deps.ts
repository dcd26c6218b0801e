import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Config } from './config.js';
import type { Database } from './db/schema.js';
import type { PageCache } from './domain/common/page-cache.js';
import type { VolumeUploads } from './domain/volumes/uploads.js';
import type { AuthStrategy } from './http/auth/auth-strategy.js';
import type { ObjectStore } from './storage/object-store.js';
import type { VolumeBackend } from './volumes/volume-backend.js';

/**
 * Everything the HTTP app is built from: made once in main.ts (or by a test) and
 * passed down explicitly; nothing is hung on the Fastify instance.
 */
export interface AppDeps {
  config: Config;
  db: Kysely<Database>;
  /** Admission and connections of their own for client-paced volume data uploads. */
  uploads: VolumeUploads;
  auth: AuthStrategy;
  volumes: VolumeBackend;
  store: ObjectStore;
  metrics: Registry;
  /** Rendered list pages (LIST_CACHE_BYTES); buildApp makes one per app when absent. */
  listCache?: PageCache;
  /** Tells this process's job worker that work was just queued (claim now, not at the next poll). */
  wakeJobs?: () => void;
  /** pino options or false; tests pass false. */
  logger?: boolean | Record<string, unknown>;
}

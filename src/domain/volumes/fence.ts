import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.js';
import { DomainError } from '../common/errors.js';

/**
 * The point-in-time fence between changes to a volume's file and copies of it.
 * NOTE: a Postgres advisory lock, not an in-process mutex, because the API process
 * that streams a PUT and the worker that copies the file may be different processes.
 * Writers (data PUT, extend, delete) take it shared and never wait: if a copy holds
 * or awaits it, they fail at once (409). Copies (snapshot, clone) take it exclusive
 * and wait for in-flight writers to finish; Postgres queues new shared requests
 * behind a waiting exclusive one, so writers cannot starve a snapshot.
 * Each holder keeps one pooled connection for the duration.
 */

const FENCE_CLASS = 0x766f6c; // "vol"
const FREEZE_TIMEOUT = '10min';

/** Runs `fn` as a writer of the volume's file; throws 409 while the volume is being copied. */
export async function withVolumeWriteFence<T>(db: Kysely<Database>, volumeId: string, fn: () => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock_shared(${FENCE_CLASS}, hashtext(${volumeId})) AS ok`.execute(
      conn,
    );
    if (!rows[0]?.ok) throw new DomainError('conflict', `Volume ${volumeId} is being copied (snapshot or clone); retry when it is done.`);
    try {
      return await fn();
    } finally {
      await sql`SELECT pg_advisory_unlock_shared(${FENCE_CLASS}, hashtext(${volumeId}))`.execute(conn);
    }
  });
}

/** Runs `fn` while no writer touches the volume's file (waits for running writers, up to 10 minutes). */
export async function withVolumeFrozen<T>(db: Kysely<Database>, volumeId: string, fn: () => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`SELECT set_config('lock_timeout', ${FREEZE_TIMEOUT}, false)`.execute(conn);
    try {
      await sql`SELECT pg_advisory_lock(${FENCE_CLASS}, hashtext(${volumeId}))`.execute(conn);
    } finally {
      await sql`RESET lock_timeout`.execute(conn);
    }
    try {
      return await fn();
    } finally {
      await sql`SELECT pg_advisory_unlock(${FENCE_CLASS}, hashtext(${volumeId}))`.execute(conn);
    }
  });
}

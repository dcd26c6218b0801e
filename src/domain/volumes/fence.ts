import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { releaseFenceExclusive, releaseFenceShared, takeFenceExclusive, tryFenceShared } from '../../db/volume-fence.js';
import { DomainError } from '../common/errors.js';

/**
 * The point-in-time fence between changes to a volume's file and copies of it.
 * NOTE: a Postgres advisory lock, not an in-process mutex, because the API process
 * that streams a PUT and the worker that copies the file may be different processes.
 * Writers (data PUT, extend, delete) take it shared and never wait: if a copy holds
 * or awaits it, they fail at once (409). Copies (snapshot, clone, backup) and restores
 * into the volume take it exclusive and wait for in-flight writers to finish; Postgres
 * queues new shared requests behind a waiting exclusive one, so writers cannot starve
 * them. Each holder keeps one connection of `db` for the duration: a holder whose pace
 * a client sets (a data upload) must pass a pool of its own (see uploads.ts).
 */

const FREEZE_TIMEOUT = '10min';

/** Runs `fn` as a writer of the volume's file; throws 409 while the volume is being copied. */
export async function withVolumeWriteFence<T>(db: Kysely<Database>, volumeId: string, fn: () => Promise<T>): Promise<T> {
  return db.connection().execute((conn) => writeFencedOn(conn, volumeId, fn));
}

/** withVolumeWriteFence on a Kysely already bound to one connection (`db.connection().execute`). */
export async function writeFencedOn<T>(conn: Kysely<Database>, volumeId: string, fn: () => Promise<T>): Promise<T> {
  if (!(await tryFenceShared(conn, volumeId)))
    throw new DomainError('conflict', `Volume ${volumeId} is being copied, backed up or restored; retry when it is done.`);
  try {
    return await fn();
  } finally {
    await releaseFenceShared(conn, volumeId);
  }
}

/** Runs `fn` while no writer touches the volume's file (waits for running writers, up to 10 minutes). */
export async function withVolumeFrozen<T>(db: Kysely<Database>, volumeId: string, fn: () => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await takeFenceExclusive(conn, volumeId, FREEZE_TIMEOUT);
    try {
      return await fn();
    } finally {
      await releaseFenceExclusive(conn, volumeId);
    }
  });
}

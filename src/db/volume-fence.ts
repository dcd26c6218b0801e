import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

/**
 * The advisory locks behind the volume fence and the upload slots. Each function runs on
 * a Kysely bound to one connection (`db.connection().execute(...)`): session-level advisory
 * locks belong to the connection that took them and die with it.
 */

const FENCE_CLASS = 0x766f6c; // "vol"
const UPLOAD_SLOT_CLASS = 0x75706c; // "upl"

/** Takes the volume's fence shared without waiting; false when a copy holds or awaits it. */
export async function tryFenceShared(conn: Kysely<Database>, volumeId: string): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock_shared(${FENCE_CLASS}, hashtext(${volumeId})) AS ok`.execute(
    conn,
  );
  return rows[0]?.ok === true;
}

export async function releaseFenceShared(conn: Kysely<Database>, volumeId: string): Promise<void> {
  await sql`SELECT pg_advisory_unlock_shared(${FENCE_CLASS}, hashtext(${volumeId}))`.execute(conn);
}

/** Waits (up to `timeout`, a Postgres interval such as '10min') for the fence exclusively. */
export async function takeFenceExclusive(conn: Kysely<Database>, volumeId: string, timeout: string): Promise<void> {
  await sql`SELECT set_config('lock_timeout', ${timeout}, false)`.execute(conn);
  try {
    await sql`SELECT pg_advisory_lock(${FENCE_CLASS}, hashtext(${volumeId}))`.execute(conn);
  } finally {
    await sql`RESET lock_timeout`.execute(conn);
  }
}

export async function releaseFenceExclusive(conn: Kysely<Database>, volumeId: string): Promise<void> {
  await sql`SELECT pg_advisory_unlock(${FENCE_CLASS}, hashtext(${volumeId}))`.execute(conn);
}

/**
 * Takes one of the project's `slots` upload slots without waiting: the slot number, or null
 * when every slot is held (by this or any other process on the same database).
 */
export async function tryTakeUploadSlot(conn: Kysely<Database>, projectId: string, slots: number): Promise<number | null> {
  for (let slot = 0; slot < slots; slot++) {
    const key = `${projectId}:${slot}`;
    const { rows } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(${UPLOAD_SLOT_CLASS}, hashtext(${key})) AS ok`.execute(conn);
    if (rows[0]?.ok) return slot;
  }
  return null;
}

export async function releaseUploadSlot(conn: Kysely<Database>, projectId: string, slot: number): Promise<void> {
  await sql`SELECT pg_advisory_unlock(${UPLOAD_SLOT_CLASS}, hashtext(${`${projectId}:${slot}`}))`.execute(conn);
}

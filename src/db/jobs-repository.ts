import { type Kysely, sql } from 'kysely';
import type { Database, Db, JobRow } from './schema.js';

export interface NewJob {
  kind: string;
  resourceId: string;
  payload?: Record<string, unknown>;
  /** Only a worker on this host may claim it (null or absent: any worker). */
  hostId?: string | null;
}

/**
 * Inserts a queued job of any kind (the queue itself is kind-agnostic). Services call
 * jobs/kinds.ts enqueueJob, which only takes a known JobKind.
 */
export async function insertJob(db: Db, job: NewJob): Promise<JobRow> {
  return db
    .insertInto('jobs')
    .values({ kind: job.kind, resource_id: job.resourceId, payload: JSON.stringify(job.payload ?? {}), host_id: job.hostId ?? null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Claims the oldest runnable job: queued, or running with an expired lease (its worker
 * died), of one of `kinds`, bound to no host or to `hostId`. FOR UPDATE SKIP LOCKED lets any
 * number of workers claim concurrently without taking the same row; the lease is what keeps
 * it ours afterwards.
 */
export async function claimJob(
  db: Kysely<Database>,
  owner: string,
  leaseSeconds: number,
  kinds: readonly string[],
  hostId: string,
): Promise<JobRow | null> {
  if (kinds.length === 0) return null;
  return db.transaction().execute(async (trx) => {
    const candidate = await trx
      .selectFrom('jobs')
      .select(['id'])
      .where('kind', 'in', kinds)
      .where((eb) => eb.or([eb('host_id', 'is', null), eb('host_id', '=', hostId)]))
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), sql<boolean>`run_after <= now()`]),
          eb.and([eb('status', '=', 'running'), eb('lease_expires_at', '<', sql<Date>`now()`)]),
        ]),
      )
      .orderBy('id')
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (!candidate) return null;
    return trx
      .updateTable('jobs')
      .set({
        status: 'running',
        lease_owner: owner,
        lease_expires_at: sql<Date>`now() + make_interval(secs => ${leaseSeconds})`,
        attempts: sql<number>`attempts + 1`,
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', candidate.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** Extends our lease; false when the job is no longer ours (lease lost to another worker). */
export async function renewLease(db: Db, jobId: number, owner: string, leaseSeconds: number): Promise<boolean> {
  const row = await db
    .updateTable('jobs')
    .set({ lease_expires_at: sql<Date>`now() + make_interval(secs => ${leaseSeconds})`, updated_at: sql<Date>`now()` })
    .where('id', '=', jobId)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'running')
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Ends a job we own as done or failed (compare-and-set on owner and status). */
export async function finishJob(db: Db, jobId: number, owner: string, outcome: 'done' | 'failed', error?: string): Promise<boolean> {
  const row = await db
    .updateTable('jobs')
    .set({
      status: outcome,
      last_error: error?.slice(0, 2000) ?? null,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', jobId)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'running')
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Gives a job back to the queue (graceful shutdown): another worker may take it at once. */
export async function releaseJob(db: Db, jobId: number, owner: string): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ status: 'queued', lease_owner: null, lease_expires_at: null, updated_at: sql<Date>`now()` })
    .where('id', '=', jobId)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'running')
    .execute();
}

/** Empties a job's payload (it held secrets, e.g. passwords for a Trove instance's users). */
export async function clearJobPayload(db: Db, jobId: number): Promise<void> {
  await db.updateTable('jobs').set({ payload: '{}' }).where('id', '=', jobId).execute();
}

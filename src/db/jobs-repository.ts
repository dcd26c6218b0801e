import { type Kysely, type Transaction, sql } from 'kysely';
import type { Database, Db, JobRow } from './schema.js';

export interface NewJob {
  kind: string;
  resourceId: string;
  /** The project the job works for (fair claiming, per-project limits); omit for work of no project. */
  projectId?: string | null;
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
    .values({
      kind: job.kind,
      resource_id: job.resourceId,
      project_id: job.projectId ?? null,
      payload: JSON.stringify(job.payload ?? {}),
      host_id: job.hostId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Claims a runnable job (queued, or running with an expired lease: its worker died), fairly
 * across projects: the oldest runnable job of the project whose last claim is the oldest
 * (a project never served goes first). So a project with a long queue gets one job, then
 * every other waiting project gets one, in turn: it cannot hold up another project's job for
 * more than one job's slot per waiting project. Only jobs of `kinds` bound to no host or
 * to `hostId`. FOR UPDATE SKIP LOCKED lets any number of workers claim concurrently without taking the same row; the lease keeps it ours afterwards.
 */
export async function claimJob(
  db: Kysely<Database>,
  owner: string,
  leaseSeconds: number,
  kinds: readonly string[],
  hostId: string,
): Promise<(JobRow & { takeover: boolean }) | null> {
  if (kinds.length === 0) return null;
  return db.transaction().execute(async (trx) => {
    const runnable = sql`kind = ANY(${[...kinds]}::text[]) AND (host_id IS NULL OR host_id = ${hostId})
      AND ((status = 'queued' AND run_after <= now()) OR (status = 'running' AND lease_expires_at < now()))`;
    const { rows } = await sql<{ id: number; project: string; status: string }>`
      SELECT pick.id, pick.status, waiting.project
      FROM (SELECT DISTINCT coalesce(project_id, '') AS project FROM jobs
            WHERE status IN ('queued', 'running') AND ${runnable}) AS waiting
      LEFT JOIN job_project_turns turn ON turn.project_id = waiting.project
      CROSS JOIN LATERAL (
        SELECT id, status FROM jobs
        WHERE coalesce(project_id, '') = waiting.project AND status IN ('queued', 'running') AND ${runnable}
        ORDER BY id LIMIT 1
        FOR UPDATE SKIP LOCKED
      ) AS pick
      ORDER BY turn.last_claimed_at ASC NULLS FIRST, pick.id
      LIMIT 1`.execute(trx);
    const candidate = rows[0];
    if (!candidate) return null;
    await trx
      .insertInto('job_project_turns')
      .values({ project_id: candidate.project, last_claimed_at: sql<Date>`clock_timestamp()` })
      .onConflict((oc) => oc.column('project_id').doUpdateSet({ last_claimed_at: sql<Date>`clock_timestamp()` }))
      .execute();
    const row = await trx
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
    // A running job claimed again: its owner's lease expired (crash, lost database, stall).
    return { ...row, takeover: candidate.status === 'running' };
  });
}

/** Jobs of the project that are queued or running (all kinds). */
export async function countLiveJobs(db: Db, projectId: string): Promise<number> {
  const row = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(sql<boolean>`coalesce(project_id, '') = ${projectId}`)
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** True while a job of this kind for this resource is queued or running. */
export async function hasLiveJob(db: Db, kind: string, resourceId: string): Promise<boolean> {
  const row = await db
    .selectFrom('jobs')
    .select('id')
    .where('kind', '=', kind)
    .where('resource_id', '=', resourceId)
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirst();
  return row !== undefined;
}

/** Serializes, until the transaction ends, the callers that check and add to one project's queue. */
export async function lockProjectQueue(trx: Transaction<Database>, projectId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${0x6a6f62 /* "job" */}, hashtext(${projectId}))`.execute(trx);
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

/** Undoes a claim whose job never started (its worker began stopping meanwhile): queued, the attempt not counted. */
export async function unclaimJob(db: Db, jobId: number, owner: string): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ status: 'queued', lease_owner: null, lease_expires_at: null, attempts: sql<number>`attempts - 1`, updated_at: sql<Date>`now()` })
    .where('id', '=', jobId)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'running')
    .execute();
}

/** Empties a job's payload (it held secrets, e.g. passwords for a Trove instance's users). */
export async function clearJobPayload(db: Db, jobId: number): Promise<void> {
  await db.updateTable('jobs').set({ payload: '{}' }).where('id', '=', jobId).execute();
}

/** Deletes finished (done/failed) job rows last touched more than `olderThanSeconds` ago; returns how many. */
export async function pruneFinishedJobs(db: Db, olderThanSeconds: number): Promise<number> {
  const rows = await db
    .deleteFrom('jobs')
    .where('status', 'in', ['done', 'failed'])
    .where(sql<boolean>`coalesce(updated_at, created_at) < now() - make_interval(secs => ${olderThanSeconds})`)
    .returning('id')
    .execute();
  return rows.length;
}

/** Queued and running jobs by kind and state (running with an expired lease counts as 'stalled'). */
export async function countQueuedJobs(db: Db): Promise<Array<{ kind: string; state: string; n: number }>> {
  const { rows } = await sql<{ kind: string; state: string; n: string }>`
    SELECT kind,
           CASE WHEN status = 'running' AND lease_expires_at < now() THEN 'stalled' ELSE status END AS state,
           count(*) AS n
    FROM jobs WHERE status IN ('queued', 'running')
    GROUP BY 1, 2`.execute(db);
  return rows.map((r) => ({ kind: r.kind, state: r.state, n: Number(r.n) }));
}

/** The newest job of one of `kinds` for a resource, whatever its status (undefined once pruned or never queued). */
export async function latestJobOf(db: Db, resourceId: string, kinds: readonly string[]): Promise<JobRow | undefined> {
  return db
    .selectFrom('jobs')
    .selectAll()
    .where('resource_id', '=', resourceId)
    .where('kind', 'in', [...kinds])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

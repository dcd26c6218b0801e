import { sql } from 'kysely';
import type { Db } from './schema.js';

/** Records that worker `owner` of `hostId` is alive for the next `ttlSeconds` (insert or renew). */
export async function beatWorker(db: Db, owner: string, hostId: string, ttlSeconds: number): Promise<void> {
  const expires = sql<Date>`now() + make_interval(secs => ${ttlSeconds})`;
  await db
    .insertInto('worker_heartbeats')
    .values({ owner, host_id: hostId, expires_at: expires })
    .onConflict((oc) => oc.column('owner').doUpdateSet({ seen_at: sql<Date>`now()`, expires_at: expires }))
    .execute();
}

/** Removes a worker's row (graceful stop): its host is no longer live through it. */
export async function removeWorker(db: Db, owner: string): Promise<void> {
  await db.deleteFrom('worker_heartbeats').where('owner', '=', owner).execute();
}

/** Deletes rows of workers that stopped beating more than `olderThanSeconds` ago (killed processes). */
export async function pruneDeadWorkers(db: Db, olderThanSeconds: number): Promise<number> {
  const rows = await db
    .deleteFrom('worker_heartbeats')
    .where(sql<boolean>`expires_at < now() - make_interval(secs => ${olderThanSeconds})`)
    .returning('owner')
    .execute();
  return rows.length;
}

/** What the database knows of one host's workers: live ones now, and when the last one was seen. */
export interface HostLiveness {
  hostId: string;
  liveWorkers: number;
  /** The newest heartbeat of any of its workers (null: none recorded, or pruned). */
  lastSeenAt: Date | null;
}

/** Liveness of `hostId`: a host is live while one of its workers' heartbeats has not expired. */
export async function hostLiveness(db: Db, hostId: string): Promise<HostLiveness> {
  const row = await db
    .selectFrom('worker_heartbeats')
    .select([sql<string>`count(*) FILTER (WHERE expires_at > now())`.as('live'), sql<Date | null>`max(seen_at)`.as('last_seen_at')])
    .where('host_id', '=', hostId)
    .executeTakeFirstOrThrow();
  return { hostId, liveWorkers: Number(row.live), lastSeenAt: row.last_seen_at };
}

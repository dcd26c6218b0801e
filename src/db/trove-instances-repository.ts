import { sql } from 'kysely';
import type { Db, NewTroveInstanceRow, TroveInstanceRow } from './schema.js';

/** Every query on trove_instances. Rows marked deleted are invisible to all but markDeleted. */

export async function insertInstance(db: Db, row: NewTroveInstanceRow): Promise<TroveInstanceRow> {
  return db.insertInto('trove_instances').values(row).returningAll().executeTakeFirstOrThrow();
}

/** A live instance by id, optionally only within `projectId` (undefined = any project). */
export async function findInstance(db: Db, id: string, projectId?: string): Promise<TroveInstanceRow | undefined> {
  let q = db.selectFrom('trove_instances').selectAll().where('id', '=', id).where('deleted', '=', false);
  if (projectId !== undefined) q = q.where('project_id', '=', projectId);
  return q.executeTakeFirst();
}

/** A project's live instances, newest first, `limit` of them after the `marker` instance. */
export async function listInstances(
  db: Db,
  projectId: string,
  page: { limit: number; marker?: TroveInstanceRow },
): Promise<TroveInstanceRow[]> {
  let q = db.selectFrom('trove_instances').selectAll().where('project_id', '=', projectId).where('deleted', '=', false);
  const m = page.marker;
  if (m)
    q = q.where((eb) => eb.or([eb('created_at', '<', m.created_at), eb.and([eb('created_at', '=', m.created_at), eb('id', '<', m.id)])]));
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

/** Live instances of a project (for the instances quota). */
export async function countInstances(db: Db, projectId: string): Promise<number> {
  const r = await db
    .selectFrom('trove_instances')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', projectId)
    .where('deleted', '=', false)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Ports taken by live instances on a host. */
export async function usedPorts(db: Db, hostId: string): Promise<Set<number>> {
  const rows = await db.selectFrom('trove_instances').select('port').where('host_id', '=', hostId).where('deleted', '=', false).execute();
  return new Set(rows.map((r) => r.port));
}

/** Live instances on a host, optionally only those in `statuses`. */
export async function instancesOnHost(db: Db, hostId: string, statuses?: readonly string[]): Promise<TroveInstanceRow[]> {
  let q = db.selectFrom('trove_instances').selectAll().where('host_id', '=', hostId).where('deleted', '=', false);
  if (statuses) q = q.where('status', 'in', statuses);
  return q.orderBy('created_at').execute();
}

export interface InstanceChange {
  status: string;
  operating_status?: string;
  fault_message?: string | null;
}

/**
 * Compare-and-set: moves a live instance from one of `from` to `change.status`. Returns
 * the updated row, or undefined when the instance was not in one of `from` (lost race).
 * A fault message also stamps fault_at.
 */
export async function transitionInstance(
  db: Db,
  id: string,
  from: readonly string[],
  change: InstanceChange,
): Promise<TroveInstanceRow | undefined> {
  return db
    .updateTable('trove_instances')
    .set({
      ...change,
      ...(change.fault_message !== undefined ? { fault_at: change.fault_message === null ? null : sql<Date>`now()` } : {}),
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

/** Marks a SHUTDOWN instance deleted (its port is free again). */
export async function markInstanceDeleted(db: Db, id: string): Promise<boolean> {
  const r = await db
    .updateTable('trove_instances')
    .set({ deleted: true, deleted_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .where('status', '=', 'SHUTDOWN')
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
}

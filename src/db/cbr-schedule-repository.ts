import { sql } from 'kysely';
import type { CbrScheduleTriggerRow, Db } from './schema.js';

/** Every query of the CBR scheduler: fired triggers, and the backups retention looks at. */

export interface TriggerKey {
  policyId: string;
  vaultId: string;
  triggerAt: Date;
}

const now = () => sql<Date>`now()` as unknown as Date;

// biome-ignore lint/suspicious/noExplicitAny: any of Kysely's where() overloads fits this helper
function whereKey<Q extends { where: (...a: any[]) => Q }>(q: Q, k: TriggerKey): Q {
  return q.where('policy_id', '=', k.policyId).where('vault_id', '=', k.vaultId).where('trigger_at', '=', k.triggerAt);
}

/** The newest trigger instant recorded for a policy on a vault (any status). */
export async function lastTriggerAt(db: Db, policyId: string, vaultId: string): Promise<Date | undefined> {
  const r = await db
    .selectFrom('cbr_schedule_triggers')
    .select((eb) => eb.fn.max('trigger_at').as('last'))
    .where('policy_id', '=', policyId)
    .where('vault_id', '=', vaultId)
    .executeTakeFirst();
  return r?.last ? new Date(r.last) : undefined;
}

/**
 * Records a trigger instant; true only for the one caller whose row went in (the primary key
 * decides between processes: exactly one INSERT wins).
 */
export async function claimTrigger(db: Db, k: TriggerKey, status: 'firing' | 'missed', owner: string): Promise<boolean> {
  const r = await db
    .insertInto('cbr_schedule_triggers')
    .values({ policy_id: k.policyId, vault_id: k.vaultId, trigger_at: k.triggerAt, status, owner })
    .onConflict((oc) => oc.doNothing())
    .returning('status')
    .executeTakeFirst();
  return r !== undefined;
}

/** Compare-and-set on a trigger row's status. */
export async function transitionTrigger(
  db: Db,
  k: TriggerKey,
  from: string,
  to: string,
  set: { checkpointId?: string; error?: string } = {},
): Promise<boolean> {
  const q = db
    .updateTable('cbr_schedule_triggers')
    .set({
      status: to,
      updated_at: now(),
      ...(set.checkpointId ? { checkpoint_id: set.checkpointId } : {}),
      ...(set.error ? { error: set.error } : {}),
    })
    .where('status', '=', from);
  const r = await whereKey(q, k).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Fired triggers whose checkpoint has no backup still being made: their retention is due. */
export async function settledFiredTriggers(db: Db, limit = 100): Promise<CbrScheduleTriggerRow[]> {
  return db
    .selectFrom('cbr_schedule_triggers as t')
    .selectAll('t')
    .where('t.status', '=', 'fired')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('backups as b')
            .select('b.id')
            .whereRef('b.checkpoint_id', '=', 't.checkpoint_id')
            .where('b.deleted', '=', false)
            .where('b.status', '=', 'creating'),
        ),
      ),
    )
    .orderBy('t.trigger_at')
    .limit(limit)
    .execute();
}

export async function triggersOf(db: Db, policyId: string, vaultId?: string): Promise<CbrScheduleTriggerRow[]> {
  let q = db.selectFrom('cbr_schedule_triggers').selectAll().where('policy_id', '=', policyId);
  if (vaultId) q = q.where('vault_id', '=', vaultId);
  return q.orderBy('trigger_at').execute();
}

/** A vault's scheduler-made available backups, each dated by the trigger that made it. */
export async function scheduledBackupsOfVault(
  db: Db,
  vaultId: string,
): Promise<Array<{ id: string; volume_id: string; trigger_at: Date }>> {
  return db
    .selectFrom('backups as b')
    .innerJoin('cbr_schedule_triggers as t', 't.checkpoint_id', 'b.checkpoint_id')
    .select(['b.id', 'b.volume_id', 't.trigger_at'])
    .where('b.vault_id', '=', vaultId)
    .where('b.cbr_auto_trigger', '=', true)
    .where('b.deleted', '=', false)
    .where('b.status', '=', 'available')
    .execute();
}

/** Every live backup (any maker, any status) of the volumes that are in the vault or have backups in it. */
export async function chainBackupsOfVault(
  db: Db,
  vaultId: string,
): Promise<Array<{ id: string; volume_id: string; parent_id: string | null; status: string; created_at: Date }>> {
  return db
    .selectFrom('backups')
    .select(['id', 'volume_id', 'parent_id', 'status', 'created_at'])
    .where('deleted', '=', false)
    .where((eb) =>
      eb.or([
        eb('volume_id', 'in', eb.selectFrom('cbr_vault_resources').select('volume_id').where('vault_id', '=', vaultId)),
        eb('volume_id', 'in', eb.selectFrom('backups').select('volume_id').where('vault_id', '=', vaultId).where('deleted', '=', false)),
      ]),
    )
    .execute();
}

/** The project and user a vault belongs to (the scheduler acts on their behalf). */
export async function vaultOwner(db: Db, vaultId: string): Promise<{ project_id: string; user_id: string } | undefined> {
  return db.selectFrom('cbr_vaults').select(['project_id', 'user_id']).where('id', '=', vaultId).executeTakeFirst();
}

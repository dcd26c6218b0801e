import type { Logger } from 'pino';
import { chainBackupsOfVault, scheduledBackupsOfVault } from '../../../db/cbr-schedule-repository.js';
import type { Db } from '../../../db/schema.js';
import { deleteBackup } from '../../backups/actions.js';
import type { BackupApiDeps } from '../../backups/deps.js';
import type { RequestContext } from '../../common/context.js';
import { DomainError } from '../../common/errors.js';
import { needsFullByInterval, planPrune, type ChainBackup } from './chains.js';
import type { RetentionRule } from './rules.js';
import { selectPruned } from './select.js';

export interface VaultRetentionPlan {
  /** Per volume: what to delete now, what waits for its dependents, and whether the next backup must be full. */
  volumes: Map<string, { deleteNow: string[]; deferred: string[]; forceFull: boolean }>;
}

/**
 * Retention of one vault at `now`: the scheduler-made backups (dated by their trigger instant) that the
 * rule removes, per volume, planned against the volume's live incremental chains (chains.ts).
 */
export async function planVaultRetention(db: Db, vaultId: string, rule: RetentionRule, now: Date): Promise<VaultRetentionPlan> {
  const [scheduled, live] = await Promise.all([scheduledBackupsOfVault(db, vaultId), chainBackupsOfVault(db, vaultId)]);
  const byVolume = new Map<string, ChainBackup[]>();
  for (const b of live) {
    const list = byVolume.get(b.volume_id) ?? [];
    list.push({ id: b.id, parentId: b.parent_id, status: b.status, createdAt: new Date(b.created_at) });
    byVolume.set(b.volume_id, list);
  }
  const volumes: VaultRetentionPlan['volumes'] = new Map();
  for (const [volumeId, chain] of byVolume) {
    const candidates = scheduled.filter((b) => b.volume_id === volumeId).map((b) => ({ id: b.id, createdAt: new Date(b.trigger_at) }));
    const plan = planPrune(selectPruned(rule, candidates, now), chain);
    volumes.set(volumeId, { ...plan, forceFull: plan.forceFull || needsFullByInterval(rule.fullBackupInterval, chain) });
  }
  return { volumes };
}

/**
 * Deletes what the plan removes now, through the Cinder delete path (status CAS, dependents check,
 * a delete_backup job). A backup another request took meanwhile is left for the next run.
 */
export async function applyVaultRetention(
  deps: BackupApiDeps,
  ctx: RequestContext,
  plan: VaultRetentionPlan,
  log: Logger,
): Promise<{ deleted: string[]; deferred: string[] }> {
  const deleted: string[] = [];
  const deferred: string[] = [];
  for (const [volumeId, p] of plan.volumes) {
    deferred.push(...p.deferred);
    for (const id of p.deleteNow) {
      try {
        await deleteBackup(deps, ctx, id);
        deleted.push(id);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        log.info({ backup_id: id, volume_id: volumeId, reason: err.message }, 'retention: backup not deleted this run');
      }
    }
  }
  return { deleted, deferred };
}

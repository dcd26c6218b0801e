import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { listEnabledPoliciesWithVaults } from '../../../db/cbr-policies-repository.js';
import {
  claimTrigger,
  lastTriggerAt,
  settledFiredTriggers,
  transitionTrigger,
  vaultOwner,
  type TriggerKey,
} from '../../../db/cbr-schedule-repository.js';
import type { BackupApiDeps } from '../../backups/deps.js';
import type { RequestContext } from '../../common/context.js';
import { createCheckpoint } from '../checkpoints/create-checkpoint.js';
import { applyVaultRetention, planVaultRetention } from '../retention/apply.js';
import { retentionRule, type OperationDefinition, type RetentionRule } from '../retention/rules.js';
import type { Clock } from './clock.js';
import { policySchedule } from './policy-schedule.js';
import { triggersBetween } from './rrule.js';

/**
 * The CBR policy scheduler: one pass (`schedulerTick`) run by every worker process every few seconds.
 * Exactly once across processes: a trigger instant fires only in the process whose INSERT of the
 * (policy, vault, instant) row wins (the primary key decides in Postgres). The row is committed before
 * the checkpoint is made, so a crash in between loses that one trigger (it stays `firing`, visible),
 * never doubles it.
 * Window: a pass fires the instants t with now - window < t <= now. An instant older than the window
 * that no process recorded (no worker ran then) is recorded `missed` and logged, never replayed.
 * Retention runs once per fired trigger, after every backup of its checkpoint settled.
 */
export interface SchedulerDeps extends BackupApiDeps {
  clock: Clock;
  log: Logger;
  /** Unique per process (host:pid:random). */
  owner: string;
  windowMs: number;
  /** Called after retention enqueued deletes (main wires it to the job worker). */
  wakeJobs?: () => void;
}

export interface TickReport {
  fired: Array<TriggerKey & { checkpointId: string }>;
  failed: TriggerKey[];
  missed: TriggerKey[];
  pruned: string[];
}

/** At most this many missed instants are recorded per policy x vault per pass (bounds a long outage). */
const MAX_MISSED = 200;

function serviceContext(projectId: string, userId: string): RequestContext {
  return { requestId: `req-${randomUUID()}`, userId, projectId, roles: ['member'], isAdmin: false };
}

export async function schedulerTick(deps: SchedulerDeps): Promise<TickReport> {
  const report: TickReport = { fired: [], failed: [], missed: [], pruned: [] };
  const now = deps.clock.now();
  const windowStart = new Date(now.getTime() - deps.windowMs);
  const rules = new Map<string, RetentionRule>();
  for (const { policy, vaults } of await listEnabledPoliciesWithVaults(deps.db)) {
    let schedule;
    let anchor: Date;
    let rule: RetentionRule;
    try {
      ({ rules: schedule, anchor } = policySchedule(policy));
      rule = retentionRule(policy.operation_definition as OperationDefinition);
      rules.set(policy.id, rule);
    } catch (err) {
      deps.log.error({ policy_id: policy.id, err }, 'cbr scheduler: policy not schedulable');
      continue;
    }
    for (const v of vaults) {
      const last = await lastTriggerAt(deps.db, policy.id, v.vaultId);
      if (last && last < windowStart) {
        for (const t of triggersBetween(schedule, anchor, last, windowStart).slice(-MAX_MISSED)) {
          const key = { policyId: policy.id, vaultId: v.vaultId, triggerAt: t };
          if (await claimTrigger(deps.db, key, 'missed', deps.owner)) {
            report.missed.push(key);
            deps.log.warn(
              { policy_id: policy.id, vault_id: v.vaultId, trigger_at: t.toISOString() },
              'cbr scheduler: trigger missed (no worker ran)',
            );
          }
        }
      }
      const from = last && last > windowStart ? last : windowStart;
      for (const t of triggersBetween(schedule, anchor, from, now)) {
        const key = { policyId: policy.id, vaultId: v.vaultId, triggerAt: t };
        if (!(await claimTrigger(deps.db, key, 'firing', deps.owner))) continue;
        await fire(deps, key, rule, now, serviceContext(v.projectId, v.userId), report);
      }
    }
  }
  await runDueRetention(deps, rules, now, report);
  return report;
}

async function fire(deps: SchedulerDeps, key: TriggerKey, rule: RetentionRule, now: Date, ctx: RequestContext, report: TickReport) {
  const log = deps.log.child({ policy_id: key.policyId, vault_id: key.vaultId, trigger_at: key.triggerAt.toISOString() });
  try {
    const plan = await planVaultRetention(deps.db, key.vaultId, rule, now);
    const full = [...plan.volumes.values()].some((p) => p.forceFull);
    const checkpoint = await createCheckpoint(deps, ctx, {
      vaultId: key.vaultId,
      incremental: !full,
      autoTrigger: true,
      scheduledBy: { policyId: key.policyId },
    });
    await transitionTrigger(deps.db, key, 'firing', 'fired', { checkpointId: checkpoint.id });
    report.fired.push({ ...key, checkpointId: checkpoint.id });
    log.info({ checkpoint_id: checkpoint.id, incremental: !full }, 'cbr scheduler: checkpoint created');
    deps.wakeJobs?.();
  } catch (err) {
    await transitionTrigger(deps.db, key, 'firing', 'failed', { error: err instanceof Error ? err.message : String(err) });
    report.failed.push(key);
    log.warn({ err }, 'cbr scheduler: trigger failed');
  }
}

/** Retention of each fired trigger whose checkpoint settled, for the enabled policies' rules. */
async function runDueRetention(deps: SchedulerDeps, rules: Map<string, RetentionRule>, now: Date, report: TickReport) {
  for (const t of await settledFiredTriggers(deps.db)) {
    const rule = rules.get(t.policy_id);
    if (!rule) continue;
    const key = { policyId: t.policy_id, vaultId: t.vault_id, triggerAt: new Date(t.trigger_at) };
    // Exactly one process applies a trigger's retention: the one whose CAS fired -> done wins.
    if (!(await transitionTrigger(deps.db, key, 'fired', 'done'))) continue;
    const plan = await planVaultRetention(deps.db, t.vault_id, rule, now);
    const vault = await vaultOwner(deps.db, t.vault_id);
    if (!vault) continue;
    const r = await applyVaultRetention(deps, serviceContext(vault.project_id, vault.user_id), plan, deps.log);
    report.pruned.push(...r.deleted);
    if (r.deleted.length || r.deferred.length) {
      deps.log.info({ policy_id: t.policy_id, vault_id: t.vault_id, deleted: r.deleted, deferred: r.deferred }, 'cbr retention applied');
      deps.wakeJobs?.();
    }
  }
}

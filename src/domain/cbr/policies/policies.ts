import { randomUUID } from 'node:crypto';
import { deletePolicy, findPolicy, insertPolicy, listPolicies, policyVaults, updatePolicy } from '../../../db/cbr-policies-repository.js';
import type { CbrPolicyRow, Db } from '../../../db/schema.js';
import type { RequestContext } from '../../common/context.js';
import { DomainError } from '../../common/errors.js';
import { CbrError, paramInvalid } from '../errors.js';
import { type OperationDefinition, retentionRule } from '../retention/rules.js';
import { nextRunTimes } from '../schedule/policy-schedule.js';
import { parsePatterns } from '../schedule/rrule.js';
import { cbrSpaceTime } from '../time.js';

/** P1-P5: backup policies (schedule patterns + retention), stored and echoed as the caller sent them. */

export interface PolicyView {
  id: string;
  name: string;
  enabled: boolean;
  operation_type: string;
  operation_definition: OperationDefinition;
  trigger: {
    id: string;
    name: string;
    type: string;
    /** next_run_times is an extension: the scheduler's next instants (UTC, start_time's form). */
    properties: { pattern: string[]; start_time: string; next_run_times: string[] };
  };
  associated_vaults: Array<{ vault_id: string }>;
  policy_type: string;
}

export interface PolicyInput {
  name: string;
  enabled?: boolean;
  patterns: string[];
  operationDefinition: OperationDefinition;
}

export type PolicyUpdate = Partial<PolicyInput>;

const policyNotFound = (id: string) => new CbrError('BackupService.6200', `Policy ${id} could not be found.`, true);

/** Strict checks the zod shape cannot express: the RRULE grammar and the GFS rules' timezone. */
function checkSchedule(patterns: readonly string[] | undefined, def: OperationDefinition | undefined): void {
  const check = (field: string, f: () => unknown) => {
    try {
      f();
    } catch (err) {
      if (err instanceof DomainError) throw paramInvalid(field, err.message);
      throw err;
    }
  };
  if (patterns !== undefined) check('trigger.properties.pattern', () => parsePatterns(patterns));
  if (def === undefined) return;
  check('operation_definition.timezone', () => retentionRule(def));
  if (!def.timezone && [def.day_backups, def.week_backups, def.month_backups, def.year_backups].some((n) => (n ?? 0) > 0)) {
    throw paramInvalid('operation_definition.timezone', 'day/week/month/year_backups need a timezone');
  }
}

function view(row: CbrPolicyRow, vaults: readonly string[], now: Date): PolicyView {
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled,
    operation_type: row.operation_type,
    operation_definition: row.operation_definition as OperationDefinition,
    trigger: {
      id: row.trigger_id,
      name: 'default',
      type: 'time',
      // NOTE: the schedule's INTERVAL anchor is the policy's creation (the scheduler counts days from it).
      properties: {
        pattern: row.patterns,
        start_time: cbrSpaceTime(new Date(row.created_at)),
        next_run_times: nextRunTimes(row, now).map(cbrSpaceTime),
      },
    },
    associated_vaults: vaults.map((vault_id) => ({ vault_id })),
    policy_type: 'custom_policy',
  };
}

async function viewOf(db: Db, row: CbrPolicyRow, now: Date): Promise<PolicyView> {
  return view(row, (await policyVaults(db, [row.id])).get(row.id) ?? [], now);
}

/** P1: validates the patterns strictly and stores them verbatim (`BYHOUR=02` comes back as `02`). */
export async function createPolicy(db: Db, ctx: RequestContext, input: PolicyInput): Promise<PolicyView> {
  checkSchedule(input.patterns, input.operationDefinition);
  const row = await insertPolicy(db, {
    id: randomUUID(),
    project_id: ctx.projectId,
    name: input.name,
    operation_type: 'backup',
    enabled: input.enabled ?? true,
    trigger_id: randomUUID(),
    patterns: JSON.stringify(input.patterns),
    operation_definition: JSON.stringify(input.operationDefinition),
  });
  return view(row, [], new Date());
}

/** P3: 404 BackupService.6200 for an unknown id or another project's policy; next run times are those after `now`. */
export async function showPolicy(db: Db, ctx: RequestContext, id: string, now = new Date()): Promise<PolicyView> {
  const row = await findPolicy(db, id, ctx.projectId);
  if (!row) throw policyNotFound(id);
  return viewOf(db, row, now);
}

/** P2: the project's policies, newest first, optionally of one vault; `count` is the list length (no paging). */
export async function listPoliciesOf(
  db: Db,
  ctx: RequestContext,
  f: { operationType?: string; vaultId?: string },
  now = new Date(),
): Promise<PolicyView[]> {
  const rows = await listPolicies(db, ctx.projectId, f);
  const vaults = await policyVaults(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => view(r, vaults.get(r.id) ?? [], now));
}

/** P4: changes what is given; a new operation_definition replaces the old one whole. */
export async function updatePolicyOf(db: Db, ctx: RequestContext, id: string, input: PolicyUpdate): Promise<PolicyView> {
  const current = await findPolicy(db, id, ctx.projectId);
  if (!current) throw policyNotFound(id);
  checkSchedule(input.patterns, input.operationDefinition);
  const row = await updatePolicy(db, current.id, {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
    ...(input.patterns !== undefined ? { patterns: JSON.stringify(input.patterns) } : {}),
    ...(input.operationDefinition !== undefined ? { operation_definition: JSON.stringify(input.operationDefinition) } : {}),
  });
  if (!row) throw policyNotFound(id);
  return viewOf(db, row, new Date());
}

/**
 * P5: deletes the policy; vaults bound to it are unbound silently (they keep their backups and
 * simply stop being scheduled), which is what a client tearing down a policy expects.
 */
export async function deletePolicyOf(db: Db, ctx: RequestContext, id: string): Promise<void> {
  const current = await findPolicy(db, id, ctx.projectId);
  if (!current || !(await deletePolicy(db, current.id))) throw policyNotFound(id);
}

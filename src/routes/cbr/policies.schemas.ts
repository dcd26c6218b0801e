import { z } from 'zod';
import { CbrName } from './common.schemas.js';

/** P1-P5. Patterns are strings kept verbatim; the retention fields are integers. */

/** -1 (no limit) or 1-99999. */
const Limit = z
  .number()
  .int()
  .min(-1)
  .max(99999)
  .refine((n) => n !== 0, 'must be -1 or 1-99999')
  .optional();

const OperationDefinition = z.object({
  max_backups: Limit,
  retention_duration_days: Limit,
  day_backups: z.number().int().min(0).max(100).optional(),
  week_backups: z.number().int().min(0).max(100).optional(),
  month_backups: z.number().int().min(0).max(100).optional(),
  year_backups: z.number().int().min(0).max(100).optional(),
  timezone: z.string().optional(),
  full_backup_interval: z.number().int().min(-1).max(100).optional(),
});

const Trigger = z.object({ properties: z.object({ pattern: z.array(z.string()).min(1).max(24) }) });

export const CreatePolicyBody = z.object({
  policy: z.object({
    name: CbrName,
    operation_type: z.literal('backup'),
    trigger: Trigger,
    operation_definition: OperationDefinition,
    enabled: z.boolean().optional(),
  }),
});

export const UpdatePolicyBody = z.object({
  policy: z.object({
    name: CbrName.optional(),
    enabled: z.boolean().optional(),
    trigger: Trigger.optional(),
    operation_definition: OperationDefinition.optional(),
  }),
});

const SpaceTime = z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

export const Policy = z.object({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  operation_type: z.string(),
  operation_definition: OperationDefinition,
  trigger: z.object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    properties: z.object({
      pattern: z.array(z.string()),
      start_time: SpaceTime,
      next_run_times: z
        .array(SpaceTime)
        .describe(
          'Extension (not in CBR): the next instants (UTC, at most 5) at which the scheduler fires this policy for each vault bound to it, computed from its patterns as the scheduler does; empty when the policy is disabled.',
        ),
    }),
  }),
  associated_vaults: z.array(z.object({ vault_id: z.string() })),
  policy_type: z.string(),
});

export const PolicyBody = z.object({ policy: Policy });
export const PolicyList = z.object({ policies: z.array(Policy), count: z.number().int() });
export const ListPoliciesQuery = z.object({
  operation_type: z.enum(['backup', 'replication']).optional(),
  vault_id: z.string().optional(),
});

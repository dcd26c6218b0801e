import { z } from 'zod';
import { CbrDescription, CbrName, CbrTimestamp } from './common.schemas.js';

/** Create and show checkpoint bodies. In a checkpoint's resources the sizes and count are strings and extra_info a string. */

const ResourceDetail = z.object({ id: z.string(), type: z.string(), name: z.string().max(255).optional() });

export const CreateCheckpointBody = z.object({
  checkpoint: z.object({
    vault_id: z.string(),
    parameters: z
      .object({
        auto_trigger: z.boolean().optional(),
        description: CbrDescription(255).optional(),
        incremental: z.boolean().optional(),
        name: CbrName.optional(),
        resources: z.array(z.string()).max(256).optional(),
        resource_details: z.array(ResourceDetail).max(256).optional(),
      })
      .optional(),
  }),
});

export const CheckpointResource = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  protect_status: z.string(),
  resource_size: z.string(),
  backup_size: z.string(),
  backup_count: z.string(),
  extra_info: z.string().nullable(),
});

export const Checkpoint = z.object({
  id: z.string(),
  project_id: z.string(),
  status: z.string().describe('protecting | available | error | deleting | error-deleting | deleted'),
  created_at: CbrTimestamp,
  extra_info: z.object({ name: z.string(), description: z.string(), retention_duration: z.number().int() }),
  vault: z.object({
    id: z.string(),
    name: z.string(),
    provider_id: z.string(),
    resources: z.array(CheckpointResource),
    skipped_resources: z.array(z.object({ id: z.string(), type: z.string(), name: z.string(), code: z.string(), reason: z.string() })),
  }),
});

export const CheckpointBody = z.object({ checkpoint: Checkpoint });

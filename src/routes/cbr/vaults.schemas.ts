import { z } from 'zod';
import { CbrDescription, CbrName, CbrTimestamp, PagingQuery, repeatable } from './common.schemas.js';

/** Zod schemas of the vault routes; the response schemas carry the JSON types strict clients decode. */

const Tag = z.object({ key: z.string().max(36), value: z.string().max(43) });
const Resource = z.object({ id: z.string(), type: z.string(), name: z.string().max(255).optional() });

export const CreateVaultBody = z.object({
  vault: z.object({
    name: CbrName,
    description: CbrDescription(64).optional(),
    billing: z.object({
      object_type: z.string(),
      protect_type: z.string(),
      consistent_level: z.string(),
      size: z.number().int(),
      charging_mode: z.string().optional(),
      cloud_type: z.string().optional(),
    }),
    resources: z.array(Resource).max(256),
    backup_policy_id: z.string().optional(),
    auto_bind: z.boolean().optional(),
    bind_rules: z.object({ tags: z.array(Tag).max(5).optional() }).optional(),
    auto_expand: z.boolean().optional(),
    enterprise_project_id: z.string().optional(),
    tags: z.array(Tag).max(10).optional(),
    threshold: z.number().int().min(1).max(100).optional(),
    smn_notify: z.boolean().optional(),
    locked: z.boolean().optional(),
    backup_name_prefix: z.string().max(32).optional(),
    availability_zone: z.string().optional(),
  }),
});

export const UpdateVaultBody = z.object({
  vault: z.object({
    name: CbrName.optional(),
    billing: z.object({ size: z.number().int().optional(), consistent_level: z.string().optional() }).optional(),
    auto_bind: z.boolean().optional(),
    auto_expand: z.boolean().optional(),
    bind_rules: z.object({ tags: z.array(Tag).max(5).optional() }).optional(),
    locked: z.boolean().optional(),
    smn_notify: z.boolean().optional(),
    threshold: z.number().int().min(1).max(100).optional(),
  }),
});

export const AddResourcesBody = z.object({ resources: z.array(Resource).min(1).max(256) });
export const RemoveResourcesBody = z.object({ resource_ids: z.array(z.string()).min(1).max(256) });
export const AssociatePolicyBody = z
  .object({
    policy_id: z.string().optional(),
    add_policy_ids: z.array(z.string()).min(1).optional(),
    destination_vault_id: z.string().optional(),
  })
  .refine((b) => (b.policy_id === undefined) !== (b.add_policy_ids === undefined), {
    message: 'give exactly one of policy_id and add_policy_ids',
    path: ['policy_id'],
  });
export const DissociatePolicyBody = z.object({ policy_id: z.string() });

export const ListVaultsQuery = PagingQuery.extend({
  name: z.string().optional(),
  cloud_type: z.string().optional(),
  protect_type: z.string().optional(),
  object_type: z.string().optional(),
  status: z.string().optional(),
  id: repeatable.optional(),
  policy_id: z.string().optional(),
  resource_ids: z.string().optional(),
  enterprise_project_id: z.string().optional(),
});

export const VaultResource = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  protect_status: z.string(),
  size: z.number().int(),
  backup_count: z.number().int(),
  backup_size: z.number().int(),
  extra_info: z.record(z.string(), z.unknown()),
});

export const Vault = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  project_id: z.string(),
  provider_id: z.string(),
  user_id: z.string(),
  created_at: CbrTimestamp,
  updated_at: CbrTimestamp.nullable(),
  billing: z.object({
    allocated: z.number().int(),
    used: z.number().int(),
    size: z.number().int(),
    status: z.string(),
    spec_code: z.string(),
    object_type: z.string(),
    protect_type: z.string(),
    consistent_level: z.string(),
    charging_mode: z.string(),
    cloud_type: z.string(),
    is_multi_az: z.boolean(),
    frozen_scene: z.null(),
    storage_unit: z.string(),
  }),
  resources: z.array(VaultResource),
  tags: z.array(Tag),
  enterprise_project_id: z.string(),
  auto_bind: z.boolean(),
  auto_expand: z.boolean(),
  locked: z.boolean(),
  smn_notify: z.boolean(),
  bind_rules: z.object({ tags: z.array(Tag).optional() }),
  threshold: z.number().int(),
  backup_name_prefix: z.string(),
  availability_zone: z.string(),
});

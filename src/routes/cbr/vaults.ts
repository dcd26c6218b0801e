import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { paramInvalid } from '../../domain/cbr/errors.js';
import { createVault, updateVault } from '../../domain/cbr/vaults/create-vault.js';
import { deleteVault } from '../../domain/cbr/vaults/delete-vault.js';
import { listVaults, showVault } from '../../domain/cbr/vaults/read-vaults.js';
import { associatePolicy, dissociatePolicy } from '../../domain/cbr/vaults/vault-policy.js';
import { addResources, removeResources } from '../../domain/cbr/vaults/vault-resources.js';
import { ProjectParams, errorResponses } from './common.schemas.js';
import {
  AddResourcesBody,
  AssociatePolicyBody,
  CreateVaultBody,
  DissociatePolicyBody,
  ListVaultsQuery,
  RemoveResourcesBody,
  UpdateVaultBody,
  Vault,
} from './vaults.schemas.js';

const tags = ['vaults'];
const Params = ProjectParams.extend({ vault_id: z.string() });
const PolicyBinding = z.object({ vault_id: z.string(), policy_id: z.string() });

/** V1-V9: vaults of volumes, their resources and their backup policy. */
export async function vaultRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const one = { 200: z.object({ vault: Vault }), ...errorResponses };

  r.post(
    '/vaults',
    { schema: { tags, summary: 'Create a vault', params: ProjectParams, body: CreateVaultBody, response: one } },
    async (req) => ({
      vault: await createVault(deps.db, req.ctx, req.body.vault),
    }),
  );

  r.get(
    '/vaults',
    {
      schema: {
        tags,
        summary: 'List vaults',
        params: ProjectParams,
        querystring: ListVaultsQuery,
        response: {
          200: z.object({ vaults: z.array(Vault), count: z.number().int(), limit: z.number().int(), offset: z.number().int() }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 1000;
      const offset = q.offset ?? 0;
      const { vaults, count } = await listVaults(
        deps.db,
        req.ctx,
        {
          ...(q.name !== undefined ? { name: q.name } : {}),
          ...(q.status !== undefined ? { status: q.status } : {}),
          ...(q.cloud_type !== undefined ? { cloudType: q.cloud_type } : {}),
          ...(q.protect_type !== undefined ? { protectType: q.protect_type } : {}),
          ...(q.object_type !== undefined ? { objectType: q.object_type } : {}),
          ...(q.id !== undefined ? { ids: q.id } : {}),
          ...(q.policy_id !== undefined ? { policyId: q.policy_id } : {}),
          ...(q.resource_ids !== undefined ? { resourceIds: q.resource_ids.split(',').map((s) => s.trim()) } : {}),
          ...(q.enterprise_project_id !== undefined ? { enterpriseProjectId: q.enterprise_project_id } : {}),
        },
        offset,
        limit,
      );
      return { vaults, count, limit, offset };
    },
  );

  r.get('/vaults/:vault_id', { schema: { tags, summary: 'Show a vault', params: Params, response: one } }, async (req) => ({
    vault: await showVault(deps.db, req.ctx, req.params.vault_id),
  }));

  r.put(
    '/vaults/:vault_id',
    { schema: { tags, summary: 'Update a vault', params: Params, body: UpdateVaultBody, response: one } },
    async (req) => ({ vault: await updateVault(deps.db, req.ctx, req.params.vault_id, req.body.vault) }),
  );

  r.delete(
    '/vaults/:vault_id',
    { schema: { tags, summary: 'Delete a vault and every backup in it', params: Params, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await deleteVault(deps.db, req.ctx, req.params.vault_id);
      deps.wakeJobs?.();
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/vaults/:vault_id/addresources',
    {
      schema: {
        tags,
        summary: 'Bind volumes',
        params: Params,
        body: AddResourcesBody,
        response: { 200: z.object({ add_resource_ids: z.array(z.string()) }), ...errorResponses },
      },
    },
    async (req) => ({ add_resource_ids: await addResources(deps.db, req.ctx, req.params.vault_id, req.body.resources) }),
  );

  r.post(
    '/vaults/:vault_id/removeresources',
    {
      schema: {
        tags,
        summary: 'Unbind volumes (their backups in the vault are deleted)',
        params: Params,
        body: RemoveResourcesBody,
        response: { 200: z.object({ remove_resource_ids: z.array(z.string()) }), ...errorResponses },
      },
    },
    async (req) => {
      const ids = await removeResources(deps.db, req.ctx, req.params.vault_id, req.body.resource_ids);
      deps.wakeJobs?.();
      return { remove_resource_ids: ids };
    },
  );

  r.post(
    '/vaults/:vault_id/associatepolicy',
    {
      schema: {
        tags,
        summary: 'Bind a backup policy',
        params: Params,
        body: AssociatePolicyBody,
        response: { 200: z.object({ associate_policy: PolicyBinding }), ...errorResponses },
      },
    },
    async (req) => {
      const ids = req.body.add_policy_ids ?? [req.body.policy_id!];
      if (ids.length > 1) {
        throw paramInvalid('add_policy_ids', 'a vault holds at most one backup policy');
      }
      return { associate_policy: await associatePolicy(deps.db, req.ctx, req.params.vault_id, ids[0]!) };
    },
  );

  r.post(
    '/vaults/:vault_id/dissociatepolicy',
    {
      schema: {
        tags,
        summary: 'Unbind a policy',
        params: Params,
        body: DissociatePolicyBody,
        response: { 200: z.object({ dissociate_policy: PolicyBinding }), ...errorResponses },
      },
    },
    async (req) => ({ dissociate_policy: await dissociatePolicy(deps.db, req.ctx, req.params.vault_id, req.body.policy_id) }),
  );
}

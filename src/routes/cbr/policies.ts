import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { createPolicy, deletePolicyOf, listPoliciesOf, showPolicy, updatePolicyOf } from '../../domain/cbr/policies/policies.js';
import { ProjectParams, errorResponses } from './common.schemas.js';
import { CreatePolicyBody, ListPoliciesQuery, PolicyBody, PolicyList, UpdatePolicyBody } from './policies.schemas.js';

const tags = ['policies'];
const OnePolicy = ProjectParams.extend({ policy_id: z.string() });

/** P1-P5: backup policies (schedule + retention); bound to vaults through the vault routes. */
export async function policyRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/policies',
    {
      schema: {
        tags,
        summary: 'Create a backup policy',
        params: ProjectParams,
        body: CreatePolicyBody,
        response: { 200: PolicyBody, ...errorResponses },
      },
    },
    async (req) => {
      const p = req.body.policy;
      const policy = await createPolicy(deps.db, req.ctx, {
        name: p.name,
        patterns: p.trigger.properties.pattern,
        operationDefinition: p.operation_definition,
        ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
      });
      return { policy };
    },
  );

  r.get(
    '/policies',
    {
      schema: {
        tags,
        summary: 'List policies (optionally those bound to a vault)',
        params: ProjectParams,
        querystring: ListPoliciesQuery,
        response: { 200: PolicyList, ...errorResponses },
      },
    },
    async (req) => {
      const policies = await listPoliciesOf(deps.db, req.ctx, { operationType: req.query.operation_type, vaultId: req.query.vault_id });
      return { policies, count: policies.length };
    },
  );

  r.get(
    '/policies/:policy_id',
    { schema: { tags, summary: 'Show a policy', params: OnePolicy, response: { 200: PolicyBody, ...errorResponses } } },
    async (req) => ({ policy: await showPolicy(deps.db, req.ctx, req.params.policy_id) }),
  );

  r.put(
    '/policies/:policy_id',
    {
      schema: {
        tags,
        summary: 'Update a policy',
        params: OnePolicy,
        body: UpdatePolicyBody,
        response: { 200: PolicyBody, ...errorResponses },
      },
    },
    async (req) => {
      const p = req.body.policy;
      const policy = await updatePolicyOf(deps.db, req.ctx, req.params.policy_id, {
        ...(p.name !== undefined ? { name: p.name } : {}),
        ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
        ...(p.trigger !== undefined ? { patterns: p.trigger.properties.pattern } : {}),
        ...(p.operation_definition !== undefined ? { operationDefinition: p.operation_definition } : {}),
      });
      return { policy };
    },
  );

  r.delete(
    '/policies/:policy_id',
    {
      schema: {
        tags,
        summary: 'Delete a policy (its vaults are unbound)',
        params: OnePolicy,
        response: { 204: z.null().describe('Deleted'), ...errorResponses },
      },
    },
    async (req, reply) => {
      await deletePolicyOf(deps.db, req.ctx, req.params.policy_id);
      return reply.code(204).send(null);
    },
  );
}

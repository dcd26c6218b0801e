import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { parseCinderBool } from '../../domain/common/cinder-bool.js';
import { invalid } from '../../domain/common/errors.js';
import { authorize } from '../../domain/common/policy.js';
import {
  QUOTA_RESOURCES,
  type QuotaResource,
  deleteQuotas,
  projectDefaultQuotas,
  projectQuotas,
  quotaUsage,
  updateQuotas,
} from '../../domain/common/quotas.js';

const Params = z.object({ target: z.string(), project_id: z.string().optional() });
const UpdateBody = z.strictObject({ quota_set: z.record(z.string(), z.unknown()) });

/** Keys a quota set may carry that are not quotas: cinderclient always sends `tenant_id`. */
const NON_QUOTA_KEYS = ['tenant_id', 'id'];
const isQuota = (k: string): k is QuotaResource => (QUOTA_RESOURCES as readonly string[]).includes(k);

/**
 * One quota value as Cinder's validate_integer reads it: an integer or a digit string,
 * within -1..2^31-1. Throws 400 with `tooSmall` for values below -1.
 */
export function quotaValue(key: string, value: unknown, tooSmall: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n)) throw invalid('input received', `${key} must be an integer.`);
  if (n < -1) throw invalid('input received', tooSmall);
  if (n > 2147483647) throw invalid('input received', `${key} must be <= 2147483647`);
  return n;
}

/** Parses a project update: known keys only (non-quota keys skipped, as Cinder does). */
function parseQuotaUpdate(body: Record<string, unknown>): Partial<Record<QuotaResource, number>> {
  const keys = Object.keys(body).filter((k) => !NON_QUOTA_KEYS.includes(k));
  const bad = keys.filter((k) => !isQuota(k));
  if (bad.length) throw invalid(null, `Bad key(s) in quota set: ${bad.join(', ')}`);
  const out: Partial<Record<QuotaResource, number>> = {};
  for (const k of keys as QuotaResource[]) out[k] = quotaValue(k, body[k], 'Quota limit must be -1 or greater.');
  return out;
}

/** os-quota-sets: show (usage=true), defaults, update and delete (admin). */
export async function quotaSetsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['quotas'];

  r.get('/os-quota-sets/:target', { schema: { summary: 'Show quotas (usage=true for in_use)', tags, params: Params } }, async (req) => {
    authorize(req.ctx, 'volume_extension:quotas:show', req.params.target);
    const q = req.query as Record<string, unknown>;
    const usage = q.usage !== undefined && parseCinderBool(q.usage, 'usage');
    const limits = await projectQuotas(deps.db, deps.config, req.params.target);
    const quotaSet: Record<string, unknown> = { id: req.params.target };
    const used = usage ? await quotaUsage(deps.db, req.params.target) : null;
    for (const k of QUOTA_RESOURCES) quotaSet[k] = used ? { limit: limits[k], in_use: used[k], reserved: 0 } : limits[k];
    return { quota_set: quotaSet };
  });

  r.get('/os-quota-sets/:target/defaults', { schema: { summary: 'Show default quotas', tags, params: Params } }, async (req) => {
    authorize(req.ctx, 'volume_extension:quotas:show', req.params.target);
    return { quota_set: { id: req.params.target, ...(await projectDefaultQuotas(deps.db, deps.config)) } };
  });

  r.put('/os-quota-sets/:target', { schema: { summary: 'Update quotas (admin)', tags, params: Params, body: UpdateBody } }, async (req) => {
    authorize(req.ctx, 'volume_extension:quotas:update', req.params.target);
    await updateQuotas(deps.db, req.params.target, parseQuotaUpdate(req.body.quota_set));
    return { quota_set: await projectQuotas(deps.db, deps.config, req.params.target) };
  });

  r.delete(
    '/os-quota-sets/:target',
    { schema: { summary: "Delete a project's quotas: back to the defaults (admin)", tags, params: Params } },
    async (req) => {
      authorize(req.ctx, 'volume_extension:quotas:delete', req.params.target);
      await deleteQuotas(deps.db, req.params.target);
      return {};
    },
  );
}

import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { parseCinderBool } from '../../domain/common/cinder-bool.js';
import { invalid } from '../../domain/common/errors.js';
import { authorize } from '../../domain/common/policy.js';
import { QUOTA_RESOURCES, type QuotaResource, defaultQuotas, projectQuotas, quotaUsage, updateQuotas } from '../../domain/common/quotas.js';

const Params = z.object({ target: z.string(), project_id: z.string().optional() });
const UpdateBody = z.strictObject({ quota_set: z.record(z.string(), z.unknown()) });

/** Parses an update's values: integers (or digit strings) >= -1, known keys only. */
function parseQuotaUpdate(body: Record<string, unknown>): Partial<Record<QuotaResource, number>> {
  const bad = Object.keys(body).filter((k) => k !== 'id' && !(QUOTA_RESOURCES as readonly string[]).includes(k));
  if (bad.length) throw invalid(null, `Bad key(s) in quota set: ${bad.join(', ')}`);
  const out: Partial<Record<QuotaResource, number>> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'id') continue;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
    if (!Number.isInteger(n)) throw invalid('input received', `${k} must be an integer.`);
    if (n < -1) throw invalid('input received', 'Quota limit must be -1 or greater.');
    out[k as QuotaResource] = n;
  }
  return out;
}

/** os-quota-sets (reference §11): show (usage=true), defaults, update (admin). */
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
    return { quota_set: { id: req.params.target, ...defaultQuotas(deps.config) } };
  });

  r.put('/os-quota-sets/:target', { schema: { summary: 'Update quotas (admin)', tags, params: Params, body: UpdateBody } }, async (req) => {
    authorize(req.ctx, 'volume_extension:quotas:update', req.params.target);
    await updateQuotas(deps.db, req.params.target, parseQuotaUpdate(req.body.quota_set));
    return { quota_set: await projectQuotas(deps.db, deps.config, req.params.target) };
  });
}

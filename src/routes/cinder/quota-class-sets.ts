import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { authorize } from '../../domain/common/policy.js';
import { QUOTA_RESOURCES, type QuotaResource, classQuotas, updateQuotaClass } from '../../domain/common/quotas.js';
import { quotaValue } from './quota-sets.js';

const Params = z.object({ class_name: z.string().min(1).max(255), project_id: z.string().optional() });
const UpdateBody = z.strictObject({ quota_class_set: z.record(z.string(), z.unknown()) });

/** A class update: quota keys are set, every other key is skipped (as Cinder's quota_classes). */
function parseClassUpdate(body: Record<string, unknown>): Partial<Record<QuotaResource, number>> {
  const out: Partial<Record<QuotaResource, number>> = {};
  for (const k of QUOTA_RESOURCES) {
    if (Object.hasOwn(body, k)) out[k] = quotaValue(k, body[k], `${k} must be >= -1`);
  }
  return out;
}

/** os-quota-class-sets (admin): the `default` class is what projects without overrides get. */
export async function quotaClassSetsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['quotas'];

  r.get(
    '/os-quota-class-sets/:class_name',
    { schema: { summary: 'Show the quotas of a quota class (admin)', tags, params: Params } },
    async (req) => {
      authorize(req.ctx, 'volume_extension:quota_classes');
      return { quota_class_set: { id: req.params.class_name, ...(await classQuotas(deps.db, deps.config, req.params.class_name)) } };
    },
  );

  r.put(
    '/os-quota-class-sets/:class_name',
    {
      schema: { summary: 'Update a quota class (admin; `default` changes what new projects get)', tags, params: Params, body: UpdateBody },
    },
    async (req) => {
      authorize(req.ctx, 'volume_extension:quota_classes');
      await updateQuotaClass(deps.db, req.params.class_name, parseClassUpdate(req.body.quota_class_set));
      return { quota_class_set: await classQuotas(deps.db, deps.config, req.params.class_name) };
    },
  );
}

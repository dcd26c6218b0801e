import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { type Protectable, listProtectables } from '../../domain/cbr/protectables.js';
import { VOLUME_TYPE } from '../../domain/cbr/time.js';
import { PagingQuery, ProjectParams, errorResponses } from './common.schemas.js';

const tags = ['protectables'];

const ProtectableView = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  size: z.number().int(),
  status: z.string(),
  children: z.array(z.unknown()),
  detail: z.record(z.string(), z.unknown()),
  protectable: z.object({
    result: z.boolean(),
    code: z.string().optional(),
    reason: z.string().optional(),
    message: z.string().optional(),
    vault: z.object({ id: z.string(), name: z.string() }).nullable(),
  }),
});

function protectableView(p: Protectable): z.infer<typeof ProtectableView> {
  const why = p.backupable ? {} : { code: 'BackupService.6113', reason: `The resource status ${p.volume.status} does not allow backup.` };
  return {
    id: p.volume.id,
    name: p.volume.display_name ?? '',
    type: VOLUME_TYPE,
    size: p.volume.size,
    status: p.volume.status,
    children: [],
    detail: {},
    protectable: { result: p.backupable, ...why, ...(p.backupable ? {} : { message: why.reason }), vault: p.vault },
  };
}

/** R1: the project's volumes that can be bound to a vault (disk is the only protectable type). */
export async function protectableRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/protectables/:protectable_type/instances',
    {
      schema: {
        tags,
        summary: 'List the volumes that can be bound to a vault',
        params: ProjectParams.extend({ protectable_type: z.enum(['disk']) }),
        querystring: PagingQuery.extend({ name: z.string().optional(), status: z.string().optional(), id: z.string().optional() }),
        response: { 200: z.object({ instances: z.array(ProtectableView) }), ...errorResponses },
      },
    },
    async (req) => {
      const { limit = 1000, offset = 0, ...filter } = req.query;
      const rows = await listProtectables(deps.db, req.ctx, filter, offset, limit);
      return { instances: rows.map(protectableView) };
    },
  );
}

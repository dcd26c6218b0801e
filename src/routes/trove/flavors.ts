import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { DomainError } from '../../domain/common/errors.js';
import { type Flavor, findFlavor, flavors } from '../../domain/trove/catalog.js';
import { type LinkContext, linkContext } from '../../http/links.js';
import { troveLinks } from '../../http/trove/format.js';

const tags = ['flavors'];

/** trove/flavor/views.py: an integer id when the id is decimal without a leading zero, else null + str_id. */
export function flavorView(f: Flavor, lc: LinkContext): Record<string, unknown> {
  const numeric = /^(0|[1-9]\d*)$/.test(f.id);
  return {
    id: numeric ? Number(f.id) : null,
    links: troveLinks(lc, 'flavors', f.id),
    name: f.name,
    ram: f.ramMb,
    vcpus: f.vcpus,
    disk: 0,
    ephemeral: 0,
    str_id: f.id,
  };
}

/** GET /flavors and /flavors/{id}: the configured list (section 2.4); an unknown id (or a name) is 404. */
export async function flavorRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const lc = (req: Parameters<typeof linkContext>[0]) => linkContext(req, deps.config.PUBLIC_ENDPOINT);
  r.get('/flavors', { schema: { summary: 'List flavors', tags } }, async (req) => ({
    flavors: flavors(deps.config).map((f) => flavorView(f, lc(req))),
  }));
  r.get(
    '/flavors/:id',
    { schema: { summary: 'Show a flavor', tags, params: z.object({ project_id: z.string(), id: z.string() }) } },
    async (req) => {
      const f = findFlavor(deps.config, req.params.id);
      if (!f) throw new DomainError('not_found', `Resource ${req.params.id} cannot be found.`);
      return { flavor: flavorView(f, lc(req)) };
    },
  );
}

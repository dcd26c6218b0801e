import type { FastifyInstance, FastifyRequest } from 'fastify';
import { linkContext } from '../../http/links.js';

/** Trove's version document (section 1.8): v1.0, CURRENT since 2012; no microversions. */
export function troveVersion(baseUrl: string): Record<string, unknown> {
  return { id: 'v1.0', status: 'CURRENT', updated: '2012-08-01T00:00:00Z', links: [{ rel: 'self', href: `${baseUrl}/v1.0/` }] };
}

/** GET /v1.0 and /v1.0/ (200, no auth: no client calls it, and it reveals nothing). */
export async function troveVersionRoutes(app: FastifyInstance, opts: { publicEndpoint?: string }): Promise<void> {
  const doc = (req: FastifyRequest) => ({ version: troveVersion(linkContext(req, opts.publicEndpoint).baseUrl) });
  app.get('/', { schema: { summary: 'Show the Trove API version (v1.0)', tags: ['versions'] } }, async (req) => doc(req));
}

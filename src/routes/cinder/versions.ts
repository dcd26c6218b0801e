import type { FastifyInstance, FastifyRequest } from 'fastify';
import { linkContext } from '../../http/links.js';
import { MAX_VERSION, MIN_VERSION, VERSIONS_UPDATED } from '../../http/microversion.js';

/** Cinder's versions document (cinder/api/versions.py): one entry, v3.0. */
export function versionsDocument(baseUrl: string): Record<string, unknown> {
  return {
    versions: [
      {
        id: 'v3.0',
        status: 'CURRENT',
        version: MAX_VERSION,
        min_version: MIN_VERSION,
        updated: VERSIONS_UPDATED,
        links: [
          { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
          { rel: 'self', href: `${baseUrl}/v3/` },
        ],
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
      },
    ],
  };
}

const hidden = { schema: { hide: true } };

/** GET / (300, no auth): what cinderclient reads to negotiate a microversion. */
export async function rootVersionsRoutes(app: FastifyInstance, opts: { publicEndpoint?: string }): Promise<void> {
  const doc = (req: FastifyRequest) => versionsDocument(linkContext(req, opts.publicEndpoint).baseUrl);
  app.get('/', { schema: { summary: 'List API versions (300 Multiple Choices)', tags: ['versions'] } }, async (req, reply) =>
    reply.code(300).send(doc(req)),
  );
  app.get('/v3', hidden, async (_req, reply) => reply.redirect('/v3/', 302));
}

/** GET /v3/ (200, behind auth as in Cinder). */
export async function v3VersionRoutes(app: FastifyInstance, opts: { publicEndpoint?: string }): Promise<void> {
  app.get('/', { prefixTrailingSlash: 'slash', schema: { summary: 'Show API v3 version details', tags: ['versions'] } }, async (req) =>
    versionsDocument(linkContext(req, opts.publicEndpoint).baseUrl),
  );
}

import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { DATASTORE, DATASTORE_VERSION, findDatastore, findDatastoreVersion } from '../../domain/trove/catalog.js';
import { type LinkContext, linkContext } from '../../http/links.js';
import { troveLinks } from '../../http/trove/format.js';

const tags = ['datastores'];

function versionView(lc: LinkContext): Record<string, unknown> {
  return {
    id: DATASTORE_VERSION.id,
    name: DATASTORE_VERSION.name,
    version: DATASTORE_VERSION.version,
    datastore: DATASTORE.id,
    links: troveLinks(lc, 'datastores/versions', DATASTORE_VERSION.id),
    active: 1,
    image: '',
    packages: '',
  };
}

function datastoreView(lc: LinkContext): Record<string, unknown> {
  return {
    id: DATASTORE.id,
    name: DATASTORE.name,
    links: troveLinks(lc, 'datastores', DATASTORE.id),
    default_version: DATASTORE_VERSION.id,
    versions: [
      {
        id: DATASTORE_VERSION.id,
        name: DATASTORE_VERSION.name,
        version: DATASTORE_VERSION.version,
        links: troveLinks(lc, 'datastores/versions', DATASTORE_VERSION.id),
        active: 1,
      },
    ],
  };
}

const Ds = z.object({ project_id: z.string(), ds: z.string() });
const DsV = Ds.extend({ v: z.string() });

/**
 * Datastores (section 2.4): one, `postgresql`, with version `15`. Datastores and versions
 * are found by name or id (`openstack datastore version list postgresql` sends the name).
 */
export async function datastoreRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const lc = (req: Parameters<typeof linkContext>[0]) => linkContext(req, deps.config.PUBLIC_ENDPOINT);
  r.get('/datastores', { schema: { summary: 'List datastores', tags } }, async (req) => ({ datastores: [datastoreView(lc(req))] }));
  r.get(
    '/datastores/versions/:v',
    { schema: { summary: 'Show a datastore version by id', tags, params: z.object({ project_id: z.string(), v: z.string() }) } },
    async (req) => {
      findDatastoreVersion(req.params.v);
      return { version: versionView(lc(req)) };
    },
  );
  r.get('/datastores/:ds', { schema: { summary: 'Show a datastore (name or id)', tags, params: Ds } }, async (req) => {
    findDatastore(req.params.ds);
    return { datastore: datastoreView(lc(req)) };
  });
  r.get('/datastores/:ds/versions', { schema: { summary: "List a datastore's versions (name or id)", tags, params: Ds } }, async (req) => {
    findDatastore(req.params.ds);
    return { versions: [versionView(lc(req))] };
  });
  r.get(
    '/datastores/:ds/versions/:v',
    { schema: { summary: 'Show a datastore version (names or ids)', tags, params: DsV } },
    async (req) => {
      findDatastore(req.params.ds);
      findDatastoreVersion(req.params.v);
      return { version: versionView(lc(req)) };
    },
  );
}

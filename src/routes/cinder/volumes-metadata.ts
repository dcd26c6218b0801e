import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from '../../app-deps.js';
import {
  type MetadataOwner,
  deleteMetadataItem,
  getMetadata,
  getMetadataKey,
  setMetadata,
  setMetadataKey,
} from '../../domain/volumes/metadata.js';
import { IdParams, KeyParams, MetaBody, MetadataBody } from './volumes.schemas.js';

/**
 * The metadata endpoints of one owner kind (`volumes` or `snapshots`): GET/POST/PUT on
 * the collection, GET/PUT/DELETE on a key; all 200 (cinder/api/v3/volume_metadata.py).
 */
export function metadataRoutes(owner: MetadataOwner) {
  const base = `/${owner}s/:id/metadata`;
  const tags = [`${owner}s`];
  return async function routes(app: FastifyInstance, deps: AppDeps): Promise<void> {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(base, { schema: { summary: `Show a ${owner}'s metadata`, tags, params: IdParams } }, async (req) => ({
      metadata: await getMetadata(deps.db, req.ctx, owner, req.params.id),
    }));
    r.post(base, { schema: { summary: `Merge into a ${owner}'s metadata`, tags, params: IdParams, body: MetadataBody } }, async (req) => ({
      metadata: await setMetadata(deps.db, req.ctx, owner, req.params.id, req.body.metadata, false),
    }));
    r.put(base, { schema: { summary: `Replace a ${owner}'s metadata`, tags, params: IdParams, body: MetadataBody } }, async (req) => ({
      metadata: await setMetadata(deps.db, req.ctx, owner, req.params.id, req.body.metadata, true),
    }));
    r.get(`${base}/:key`, { schema: { summary: `Show one ${owner} metadata item`, tags, params: KeyParams } }, async (req) => ({
      meta: { [req.params.key]: await getMetadataKey(deps.db, req.ctx, owner, req.params.id, req.params.key) },
    }));
    r.put(
      `${base}/:key`,
      { schema: { summary: `Set one ${owner} metadata item`, tags, params: KeyParams, body: MetaBody } },
      async (req) => ({
        meta: await setMetadataKey(deps.db, req.ctx, owner, req.params.id, req.params.key, req.body.meta),
      }),
    );
    r.delete(`${base}/:key`, { schema: { summary: `Delete one ${owner} metadata item`, tags, params: KeyParams } }, async (req, reply) => {
      await deleteMetadataItem(deps.db, req.ctx, owner, req.params.id, req.params.key);
      return reply.code(200).send();
    });
  };
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from '../../app-deps.js';
import { deleteSnapshot, resetSnapshotStatus, updateSnapshotStatus } from '../../domain/volumes/snapshot-actions.js';
import { resourceListBody, SNAPSHOT_LIST } from '../../domain/volumes/list-cached.js';
import { createSnapshot, showSnapshot, updateSnapshot } from '../../domain/volumes/snapshots.js';
import { linkContext } from '../../http/links.js';
import { atLeast } from '../../http/microversion.js';
import { ResetSnapshotStatusAction, UpdateSnapshotBody, CreateSnapshotBody, UpdateSnapshotStatusAction } from './snapshots.schemas.js';
import { snapshotView } from './snapshots.views.js';
import { actionOf, parseAction } from './volumes-actions.js';
import { ActionBody, IdParams } from './volumes.schemas.js';
import { listBody } from './volumes.views.js';
import { JSON_TYPE } from './list-json.js';
import { listViewKey } from './list-key.js';

const tags = ['snapshots'];
const ACTIONS = ['os-reset_status', 'os-force_delete', 'os-update_snapshot_status'] as const;

/** Snapshots (cinder/api/v3/snapshots.py): list, detail, show, create, update, delete, actions. */
export async function snapshotsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const mv = (req: FastifyRequest) => (v: string) => atLeast(req, v);
  const query = (req: FastifyRequest) => req.query as Record<string, unknown>;

  // Rendered pages go through the page cache, as volumes' (routes/cinder/volumes.ts).
  const listDeps = { db: deps.db, listCache: deps.listCache, maxLimit: deps.config.OSAPI_MAX_LIMIT };
  for (const detail of [false, true]) {
    const path = detail ? 'snapshots/detail' : 'snapshots';
    r.get(`/${path}`, { schema: { summary: detail ? 'List snapshots with details' : 'List snapshots', tags } }, async (req, reply) => {
      const lc = linkContext(req, deps.config.PUBLIC_ENDPOINT);
      const body = await resourceListBody(listDeps, SNAPSHOT_LIST, req.ctx, query(req), mv(req), {
        key: listViewKey(req, lc, path, null),
        render: (page) => {
          const items = page.records.map((rec) =>
            snapshotView(rec, { ctx: req.ctx, atLeast: mv(req), summary: !detail, extended: detail }),
          );
          const lastId = page.records.at(-1)?.row.id ?? null;
          return JSON.stringify(listBody('snapshots', items, { ...page, lastId }, { lc, path, query: query(req) }));
        },
      });
      return reply.type(JSON_TYPE).send(body);
    });
  }

  r.get('/snapshots/:id', { schema: { summary: 'Show a snapshot', tags, params: IdParams } }, async (req) => ({
    snapshot: snapshotView(await showSnapshot(deps.db, req.ctx, req.params.id), { ctx: req.ctx, atLeast: mv(req), extended: true }),
  }));

  r.post('/snapshots', { schema: { summary: 'Create a snapshot (202)', tags, body: CreateSnapshotBody } }, async (req, reply) => {
    const s = req.body.snapshot;
    const rec = await createSnapshot(
      deps,
      req.ctx,
      {
        volumeId: s.volume_id,
        name: s.name !== undefined ? s.name : (s.display_name ?? null),
        description: s.description ?? null,
        metadata: s.metadata ?? {},
        force: s.force,
      },
      mv(req),
    );
    return reply.code(202).send({ snapshot: snapshotView(rec, { ctx: req.ctx, atLeast: mv(req) }) });
  });

  r.put('/snapshots/:id', { schema: { summary: 'Update a snapshot', tags, params: IdParams, body: UpdateSnapshotBody } }, async (req) => {
    const s = req.body.snapshot;
    const rec = await updateSnapshot(deps.db, req.ctx, req.params.id, {
      name: s.name !== undefined ? s.name : s.display_name,
      description: s.description !== undefined ? s.description : s.display_description,
    });
    return { snapshot: snapshotView(rec, { ctx: req.ctx, atLeast: mv(req) }) };
  });

  r.delete('/snapshots/:id', { schema: { summary: 'Delete a snapshot (202)', tags, params: IdParams } }, async (req, reply) => {
    await deleteSnapshot(deps, req.ctx, req.params.id);
    return reply.code(202).send();
  });

  r.post(
    '/snapshots/:id/action',
    { schema: { summary: `Snapshot actions: ${ACTIONS.join(', ')} (202)`, tags, params: IdParams, body: ActionBody } },
    async (req, reply) => {
      const { name, args } = actionOf(req.body, ACTIONS);
      const id = req.params.id;
      if (name === 'os-force_delete') await deleteSnapshot(deps, req.ctx, id, true);
      else if (name === 'os-reset_status')
        await resetSnapshotStatus(deps, req.ctx, id, parseAction(name, ResetSnapshotStatusAction, args).status);
      else {
        const a = parseAction(name, UpdateSnapshotStatusAction, args);
        await updateSnapshotStatus(deps, req.ctx, id, a.status, a.progress);
      }
      return reply.code(202).send();
    },
  );
}

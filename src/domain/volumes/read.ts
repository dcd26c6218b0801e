import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import { metadataFor } from '../../db/resource-metadata.js';
import type { Database, Db, VolumeRow } from '../../db/schema.js';
import { type AttachmentRow, attachmentsFor, findVolume, listVolumes } from '../../db/volumes-repository.js';
import type { VolumeBackend } from '../../volumes/volume-backend.js';
import type { RequestContext } from '../common/context.js';
import { invalid, notFound } from '../common/errors.js';
import { type ListRules, parseListParams } from '../common/list-params.js';
import { type ListParams } from '../../db/paginate.js';
import { allowed, authorize } from '../common/policy.js';
import { listScope, readScope } from '../common/scope.js';

/** What volume and snapshot services need (AppDeps provides all of it). */
export interface VolumeServiceDeps {
  db: Kysely<Database>;
  volumes: VolumeBackend;
  config: Config;
  wakeJobs?: () => void;
}

/** A volume with what its Cinder view needs. */
export interface VolumeRecord {
  row: VolumeRow;
  metadata: Record<string, string>;
  /** Image (Glance) metadata: shown as `volume_image_metadata` when there is any. */
  imageMetadata: Record<string, string>;
  attachments: AttachmentRow[];
}

/** A live volume the caller may see, else 404 "Volume <id> could not be found." */
export async function getVolumeRow(db: Kysely<Database>, ctx: RequestContext, id: string): Promise<VolumeRow> {
  const row = await findVolume(db, id, readScope(ctx));
  // Cinder turns a failed volume:get into 404, never 403.
  if (!row || !allowed(ctx, 'volume:get', row.project_id)) throw notFound('Volume', id);
  return row;
}

/**
 * Adds metadata, image metadata and attachments to rows, in one query each.
 * NOTE: one after another: `db` may be a transaction (a list page read in one snapshot).
 */
export async function toRecords(db: Db, rows: VolumeRow[]): Promise<VolumeRecord[]> {
  const ids = rows.map((r) => r.id);
  const meta = await metadataFor(db, 'volume_metadata', ids);
  const image = await metadataFor(db, 'volume_image_metadata', ids);
  const att = await attachmentsFor(db, ids);
  return rows.map((row) => ({
    row,
    metadata: meta.get(row.id) ?? {},
    imageMetadata: image.get(row.id) ?? {},
    attachments: att.get(row.id) ?? [],
  }));
}

/** GET /volumes/{id}. */
export async function showVolume(db: Kysely<Database>, ctx: RequestContext, id: string): Promise<VolumeRecord> {
  const row = await getVolumeRow(db, ctx, id);
  return (await toRecords(db, [row]))[0]!;
}

/** Parses the `metadata` filter: a Python-literal dict such as {'k': 'v'} (or JSON). */
export function parseMetadataFilter(raw: unknown): Record<string, string> | null {
  if (raw === undefined) return null;
  const text = String(Array.isArray(raw) ? raw.at(-1) : raw);
  try {
    const obj: unknown = JSON.parse(text.replace(/'/g, '"'));
    if (obj && typeof obj === 'object' && !Array.isArray(obj))
      return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, String(v)]));
  } catch {
    // fall through
  }
  throw invalid('input received', `Invalid metadata filter: ${text}`);
}

export const VOLUME_LIST_RULES: ListRules = {
  columns: {
    id: 'id',
    name: 'display_name',
    display_name: 'display_name',
    description: 'display_description',
    status: 'status',
    size: 'size',
    availability_zone: 'availability_zone',
    bootable: 'bootable',
    migration_status: 'migration_status',
    created_at: 'created_at',
    updated_at: 'updated_at',
    project_id: 'project_id',
    user_id: 'user_id',
    host: 'host',
    snapshot_id: 'snapshot_id',
    source_volid: 'source_volid',
  },
  nameSortSince: null,
  reserved: ['metadata'],
  memberFilters: [
    'name',
    'status',
    'metadata',
    'bootable',
    'migration_status',
    'availability_zone',
    'group_id',
    'size',
    'created_at',
    'updated_at',
    'consumes_quota',
  ],
};

/** A checked GET /volumes[/detail] or /snapshots[/detail] request: parsed parameters, metadata filter and scope. */
export interface ResourceListRequest {
  params: ListParams;
  metadata: Record<string, string> | null;
  /** The one project the page reads; null: all_tenants. */
  project: string | null;
}

/** A page, the total (with_count), the parsed parameters (for next links) and the one project its rows are of. */
export interface ResourcePage<R> {
  records: R[];
  total: number | null;
  params: ListParams;
  project: string | null;
}
export type VolumePage = ResourcePage<VolumeRecord>;

/** GET /volumes[/detail], before any read: the policy check and the query's validation (throws 403, 400). */
export function parseVolumeList(
  ctx: RequestContext,
  query: Record<string, unknown>,
  atLeast: (v: string) => boolean,
  maxLimit: number,
): ResourceListRequest {
  authorize(ctx, 'volume:get_all');
  const params = parseListParams(query, ctx, atLeast, VOLUME_LIST_RULES, maxLimit);
  return { params, metadata: parseMetadataFilter(query.metadata), project: listScope(ctx, params.allTenants).projectId };
}

/** The page of a checked request. Throws 404 for a marker outside the scope (the marker is then always of `project`). */
export async function readVolumePage(db: Db, list: ResourceListRequest): Promise<VolumePage> {
  const scope = { projectId: list.project };
  const marker = list.params.marker ? await findVolume(db, list.params.marker, scope) : null;
  if (list.params.marker && !marker) throw notFound('Volume', list.params.marker);
  const { rows, total } = await listVolumes(db, list.params, scope, marker ?? null, list.metadata);
  return { records: await toRecords(db, rows), total, params: list.params, project: list.project };
}

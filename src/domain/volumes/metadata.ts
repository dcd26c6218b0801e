import type { Kysely } from 'kysely';
import { deleteMetadataKey, mergeMetadata, metadataOf, replaceMetadata } from '../../db/resource-metadata.js';
import type { Database } from '../../db/schema.js';
import type { RequestContext } from '../common/context.js';
import { DomainError, invalid } from '../common/errors.js';
import { MAX_METADATA_ITEMS, checkMetadataCount, tooManyMetadataItems } from '../common/metadata-limit.js';
import { type PolicyRule, authorize } from '../common/policy.js';
import { getSnapshotRow } from './snapshots.js';
import { getVolumeRow } from './read.js';

/**
 * The metadata endpoints of volumes and snapshots (cinder/api/v3/volume_metadata.py, snapshot_metadata.py): GET/POST(merge)/PUT(replace)
 * on the collection, GET/PUT/DELETE on a key. One implementation for both owners.
 */
export type MetadataOwner = 'volume' | 'snapshot';

const RULES: Record<MetadataOwner, { read: PolicyRule; write: PolicyRule; remove: PolicyRule }> = {
  volume: { read: 'volume:get', write: 'volume:update', remove: 'volume:update' },
  snapshot: { read: 'volume:get_snapshot_metadata', write: 'volume:update_snapshot_metadata', remove: 'volume:delete_snapshot_metadata' },
};

const TABLE = { volume: 'volume_metadata', snapshot: 'snapshot_metadata' } as const;

async function owned(
  db: Kysely<Database>,
  ctx: RequestContext,
  owner: MetadataOwner,
  id: string,
  rule: keyof (typeof RULES)['volume'],
): Promise<void> {
  const row = owner === 'volume' ? await getVolumeRow(db, ctx, id) : await getSnapshotRow(db, ctx, id);
  authorize(ctx, RULES[owner][rule], row.project_id);
}

/** Cinder's size rules: blank key 400; key or value over 255 characters 413; over MAX_METADATA_ITEMS items 413. */
export function checkMetadata(pairs: Record<string, string>): void {
  checkMetadataCount(pairs);
  for (const [key, value] of Object.entries(pairs)) {
    if (key.trim().length === 0) throw invalid(null, 'Invalid metadata: Metadata property key blank.');
    if (key.length > 255) throw new DomainError('over_limit', 'Invalid metadata size: Metadata property key greater than 255 characters.');
    if (value.length > 255)
      throw new DomainError('over_limit', 'Invalid metadata size: Metadata property value greater than 255 characters.');
  }
}

export async function getMetadata(
  db: Kysely<Database>,
  ctx: RequestContext,
  owner: MetadataOwner,
  id: string,
): Promise<Record<string, string>> {
  await owned(db, ctx, owner, id, 'read');
  return metadataOf(db, TABLE[owner], id);
}

/** POST merges, PUT (replace = true) replaces; returns the full map afterwards. */
export async function setMetadata(
  db: Kysely<Database>,
  ctx: RequestContext,
  owner: MetadataOwner,
  id: string,
  pairs: Record<string, string>,
  replace: boolean,
): Promise<Record<string, string>> {
  await owned(db, ctx, owner, id, 'write');
  checkMetadata(pairs);
  await db.transaction().execute(async (trx) => {
    if (replace) await replaceMetadata(trx, TABLE[owner], id, pairs);
    else await mergeMetadata(trx, TABLE[owner], id, pairs);
    await checkMergedCount(trx, owner, id);
  });
  return metadataOf(db, TABLE[owner], id);
}

/** A merge may grow the map past the bound: throwing inside the transaction writes nothing. */
async function checkMergedCount(trx: Kysely<Database>, owner: MetadataOwner, id: string): Promise<void> {
  if (Object.keys(await metadataOf(trx, TABLE[owner], id)).length > MAX_METADATA_ITEMS) throw tooManyMetadataItems();
}

function noKey(owner: MetadataOwner, id: string, key: string): DomainError {
  const what = owner === 'volume' ? 'Volume' : 'Snapshot';
  return new DomainError('not_found', `${what} ${id} has no metadata with key ${key}.`);
}

export async function getMetadataKey(
  db: Kysely<Database>,
  ctx: RequestContext,
  owner: MetadataOwner,
  id: string,
  key: string,
): Promise<string> {
  const all = await getMetadata(db, ctx, owner, id);
  if (!Object.hasOwn(all, key)) throw noKey(owner, id, key);
  return all[key]!;
}

/** PUT .../metadata/{key} with {"meta": {key: value}}: the body key must be the URL key. */
export async function setMetadataKey(
  db: Kysely<Database>,
  ctx: RequestContext,
  owner: MetadataOwner,
  id: string,
  key: string,
  meta: Record<string, string>,
): Promise<Record<string, string>> {
  const keys = Object.keys(meta);
  if (keys.length > 1) throw invalid(null, 'Request body contains too many items');
  if (keys[0] !== key) throw invalid(null, 'Request body and URI mismatch');
  await owned(db, ctx, owner, id, 'write');
  checkMetadata(meta);
  await db.transaction().execute(async (trx) => {
    await mergeMetadata(trx, TABLE[owner], id, meta);
    await checkMergedCount(trx, owner, id);
  });
  return meta;
}

export async function deleteMetadataItem(
  db: Kysely<Database>,
  ctx: RequestContext,
  owner: MetadataOwner,
  id: string,
  key: string,
): Promise<void> {
  await owned(db, ctx, owner, id, 'remove');
  if (!(await deleteMetadataKey(db, TABLE[owner], id, key))) throw noKey(owner, id, key);
}

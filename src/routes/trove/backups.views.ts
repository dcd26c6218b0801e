import type { FastifyRequest } from 'fastify';
import type { TroveBackupRow } from '../../db/schema.js';
import type { ListRendering } from '../../domain/common/list-cache.js';
import { toGb } from '../../domain/trove/backups/deps.js';
import type { TroveBackupPage } from '../../domain/trove/backups/list-cached.js';
import type { LinkContext } from '../../http/links.js';
import { troveTimestamp } from '../../http/trove/format.js';

/** Section 1.3, keys in Trove's order. Reads the row alone (the list version covers only trove_backups). */
export function troveBackupView(row: TroveBackupRow): Record<string, unknown> {
  const done = row.status === 'COMPLETED';
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    locationRef: done ? `${row.container}/${row.prefix}_manifest` : null,
    instance_id: row.instance_id,
    created: troveTimestamp(row.created_at),
    updated: troveTimestamp(row.updated_at),
    size: row.size_bytes === null ? null : toGb(row.size_bytes),
    status: row.status,
    parent_id: row.parent_id,
    project_id: row.project_id,
    datastore: { type: row.datastore_type, version: row.datastore_version, version_id: row.datastore_version_id },
  };
}

/**
 * A list page's body: the backups, then a `next` link when the page is full. Trove's marker is
 * an offset; the link keeps `query` (the validated one) with limit and marker set.
 */
export function troveBackupList(
  lc: LinkContext,
  project: string,
  path: string,
  query: Record<string, string | undefined>,
  page: TroveBackupPage,
): Record<string, unknown> {
  const body: Record<string, unknown> = { backups: page.rows.map(troveBackupView) };
  if (page.rows.length === page.limit) {
    const qs = new URLSearchParams(
      Object.entries({ ...query, limit: String(page.limit), marker: String(page.offset + page.limit) }).filter(
        (e): e is [string, string] => e[1] !== undefined,
      ),
    );
    body.links = [{ rel: 'next', href: `${lc.baseUrl}/v1.0/${project}/${path}?${qs.toString()}` }];
  }
  return body;
}

/**
 * How a list page becomes its body text for the page cache: what Fastify sends for the object
 * (JSON.stringify: the routes have no response schema), so cached and uncached answers are the
 * same bytes (test/integration/trove-list-cache.test.ts). The key holds every input of the body
 * besides the page and the caller (list-cache.ts adds those): path, link base and the query
 * (req.query after validation: the raw parameters the schema knows, which the link repeats).
 */
export function troveBackupListRendering(
  req: FastifyRequest,
  lc: LinkContext,
  path: string,
  linkQuery: Record<string, string | undefined>,
): ListRendering<TroveBackupPage> {
  return {
    key: JSON.stringify(['trove', path, lc, req.query, linkQuery]),
    render: (page) => JSON.stringify(troveBackupList(lc, req.ctx.projectId, path, linkQuery, page)),
  };
}

import type { FastifyRequest } from 'fastify';
import type { BackupListRendering } from '../../domain/backups/list-cached.js';
import { type BackupPage, type BackupSelect, backupListSelect } from '../../domain/backups/reads.js';
import type { BackupViewRow } from '../../db/schema.js';
import { type LinkContext, resourceLinkPrefixes } from '../../http/links.js';
import { type BackupLinker, backupDetail, backupList, backupSummary, type DetailOptions } from './backups.views.js';
import { jsonListBody } from './list-json.js';
import { listViewKey } from './list-key.js';

export type ListPath = 'backups' | 'backups/detail';

/**
 * How a backup list page becomes its body text, for the page cache (domain/backups/list-cached.ts):
 * the views through JSON.stringify (LIST_RENDERING=js, what Fastify sends for the returned
 * object) or Postgres' JSON (LIST_RENDERING=postgres), the same bytes either way
 * (test/integration/backup-list-json.test.ts). The key holds every input of both besides the
 * page: route, microversion, link base, view options, the raw query (the next link keeps it).
 */
export function backupListRendering(
  req: FastifyRequest,
  rendering: 'js' | 'postgres',
  lc: LinkContext,
  path: ListPath,
  detail: DetailOptions | null,
): BackupListRendering<{ id: string }> {
  const query = req.query as Record<string, unknown>;
  const key = listViewKey(req, lc, path, [rendering, detail]);
  if (rendering === 'postgres') {
    const { self, bookmark } = resourceLinkPrefixes(lc, 'backups');
    const select = backupListSelect.json({ detail, selfPrefix: self, bookmarkPrefix: bookmark });
    return paired(key, select, (page) => jsonListBody('backups', page.items, page, { lc, path, query }));
  }
  if (detail) {
    const render = (links: BackupLinker, row: BackupViewRow) => backupDetail(links, row, detail);
    return paired(key, backupListSelect.detail(detail), (page) => JSON.stringify(backupList(lc, page, path, query, render)));
  }
  return paired(key, backupListSelect.summary, (page) => JSON.stringify(backupList(lc, page, path, query, backupSummary)));
}

// NOTE: the row type is erased only once `select` and `render` are checked to agree on it.
function paired<R extends { id: string }>(
  key: string,
  select: BackupSelect<R>,
  render: (page: BackupPage<R>) => string,
): BackupListRendering<{ id: string }> {
  return { key, select, render } as unknown as BackupListRendering<{ id: string }>;
}

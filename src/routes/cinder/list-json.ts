import { hasNextPage, type ListParams } from '../../domain/common/list-params.js';
import { type LinkContext, nextLink } from '../../http/links.js';

/** Fastify's content type for an object body: a JSON text sent as-is must carry the same. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * A list body around items Postgres rendered as JSON text (db/*-views-json.ts): byte for byte
 * what JSON.stringify makes of the views' list body, `{"<collection>":[...]}`, then the next
 * link when the page is full and `count` with with_count, in that order.
 */
export function jsonListBody(
  collection: string,
  items: ReadonlyArray<{ json: string }>,
  page: { params: ListParams; total: number | null; lastId: string | null },
  next: { lc: LinkContext; path: string; query: Record<string, unknown> },
): string {
  let body = `{"${collection}":[${items.map((i) => i.json).join(',')}]`;
  if (page.lastId && hasNextPage(page.params, items.length, page.total)) {
    body += `,"${collection}_links":${JSON.stringify(nextLink(next.lc, next.path, next.query, page.lastId))}`;
  }
  if (page.params.withCount) body += `,"count":${JSON.stringify(page.total)}`;
  return `${body}}`;
}

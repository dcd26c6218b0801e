import type { ListFilter, ListParams, SortDir } from '../../db/paginate.js';

export type { ListFilter, ListParams, SortDir } from '../../db/paginate.js';
import type { RequestContext } from './context.js';
import { parseCinderBool } from './cinder-bool.js';
import { invalid } from './errors.js';

/**
 * Cinder's list query parameters (https://opendev.org/openstack/cinder/src/branch/master/cinder/api/common.py), parsed once for every resource:
 * limit, marker, offset, sort / sort_key / sort_dir, with_count, all_tenants, filters.
 */

export interface ListRules {
  /** API key -> column, for sorting and admin filters (e.g. name -> display_name). */
  columns: Record<string, string>;
  /** Microversion from which `name` sorts (backups 3.37, snapshots 3.30); null: always. */
  nameSortSince: string | null;
  /** Filters a non-admin may use (resource_filters.json). */
  memberFilters: readonly string[];
  /** Query keys that are not filters for this resource (consumed elsewhere). */
  reserved?: readonly string[];
}

// with_count is a control key only from 3.45 (added below); before, it is an ordinary filter key.
const CONTROL_KEYS = ['limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir', 'all_tenants'];

function single(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return String(Array.isArray(value) ? value.at(-1) : value);
}

function parseInteger(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\s*[-+]?\d+\s*$/.test(raw)) throw invalid(null, `${name} param must be an integer`);
  const n = Number(raw);
  if (n < 0) throw invalid(null, `${name} param must be positive`);
  if (n > 2147483647) throw invalid(null, `${name} param is too large`);
  return n;
}

/** The column a sort key or filter names; own keys only (`constructor`, `__proto__` name nothing). */
function columnOf(rules: ListRules, key: string): string | undefined {
  return Object.hasOwn(rules.columns, key) ? rules.columns[key] : undefined;
}

function parseSort(
  query: Record<string, unknown>,
  rules: ListRules,
  atLeast: (v: string) => boolean,
): Array<{ key: string; dir: SortDir }> {
  const sort = single(query.sort);
  const sortKey = single(query.sort_key);
  const sortDir = single(query.sort_dir);
  if (sort !== undefined && (sortKey !== undefined || sortDir !== undefined)) {
    throw invalid(null, "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  }
  const pairs: Array<{ key: string; dir: string }> = [];
  if (sort !== undefined) {
    for (const part of sort.split(',')) {
      const [key = '', dir = 'desc'] = part.split(':').map((s) => s.trim());
      pairs.push({ key, dir: dir.toLowerCase() });
    }
  } else if (sortKey !== undefined || sortDir !== undefined) {
    pairs.push({ key: (sortKey ?? 'created_at').trim(), dir: (sortDir ?? 'desc').trim().toLowerCase() });
  }
  return pairs.map(({ key, dir }) => {
    if (dir !== 'asc' && dir !== 'desc') throw invalid(null, "Unknown sort direction, must be 'desc' or 'asc'.");
    const nameAllowed = key !== 'name' || rules.nameSortSince === null || atLeast(rules.nameSortSince);
    if (!key || columnOf(rules, key) === undefined || !nameAllowed) throw invalid('input received', 'Invalid sort key');
    return { key, dir };
  });
}

/**
 * Parses a list request's query. Throws DomainError 400 with Cinder's messages.
 * `atLeast(v)` tells whether the request's microversion is >= v.
 */
export function parseListParams(
  query: Record<string, unknown>,
  ctx: RequestContext,
  atLeast: (v: string) => boolean,
  rules: ListRules,
  maxLimit: number,
): ListParams {
  const limitRaw = single(query.limit);
  const limit = Math.min(parseInteger(limitRaw, 'limit', maxLimit), maxLimit);
  const offset = parseInteger(single(query.offset), 'offset', 0);
  const marker = single(query.marker) ?? null;

  const sortPairs = parseSort(query, rules, atLeast);
  const firstDir = sortPairs[0]?.dir ?? 'desc';
  for (const key of ['created_at', 'id']) {
    if (!sortPairs.some((p) => p.key === key)) sortPairs.push({ key, dir: firstDir });
  }
  const sort = sortPairs.map((p) => ({ column: columnOf(rules, p.key) ?? p.key, dir: p.dir }));

  const countSupported = atLeast('3.45');
  const withCount = countSupported && query.with_count !== undefined ? parseCinderBool(single(query.with_count), 'with_count') : false;
  let allTenants = false;
  if (query.all_tenants !== undefined) {
    const raw = single(query.all_tenants) ?? '';
    try {
      allTenants = parseCinderBool(raw, 'all_tenants');
    } catch {
      throw invalid(null, `all_tenants must be a boolean, got '${raw}'.`);
    }
    // cinderclient always sends all_tenants: members are not refused, just not widened.
    allTenants = allTenants && ctx.isAdmin;
  }

  const skip = new Set([...CONTROL_KEYS, ...(rules.reserved ?? [])]);
  if (countSupported) skip.add('with_count');
  const filters: ListFilter[] = [];
  let matchesNothing = false;
  const rejected: string[] = [];
  for (const [rawKey, rawValue] of Object.entries(query)) {
    if (skip.has(rawKey) || rawValue === undefined) continue;
    const like = rawKey.endsWith('~') && atLeast('3.34');
    const key = like ? rawKey.slice(0, -1) : rawKey;
    const value = single(rawValue) ?? '';
    if (!ctx.isAdmin && !rules.memberFilters.includes(key)) {
      if (atLeast('3.31')) rejected.push(rawKey);
      continue; // below 3.31 unknown filters are dropped silently
    }
    const column = columnOf(rules, key);
    if (!column) {
      if (ctx.isAdmin) matchesNothing = true;
      continue;
    }
    filters.push({ column, op: like ? 'like' : 'eq', value });
  }
  if (rejected.length) throw invalid(null, `Invalid filters ${rejected.join(', ')} are found in query options.`);

  return { limit, limitGiven: limitRaw !== undefined, marker, offset, sort, withCount, allTenants, filters, matchesNothing };
}

/**
 * Whether a page gets a next link (Cinder's _get_collection_links): the page is not
 * empty and the limit is reached by the page (or by the total, with with_count).
 */
export function hasNextPage(params: ListParams, pageSize: number, total: number | null): boolean {
  if (pageSize === 0) return false;
  return params.limit <= (params.withCount && total !== null ? total : pageSize);
}

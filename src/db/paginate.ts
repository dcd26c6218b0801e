import { type Expression, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';

/**
 * Applies a parsed list request to a query: filters, keyset pagination after the
 * marker row (of `marker.table`) on the sort columns (created_at, id last), offset and limit.
 * Nullable text columns sort as '' so that keyset comparisons never meet NULL.
 */
export function paginate<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  params: ListParams,
  marker: { table: string; row: { id: string } } | null,
  nullableTextColumns: readonly string[] = [],
): SelectQueryBuilder<DB, TB, O> {
  const expr = (column: string) => (nullableTextColumns.includes(column) ? sql`coalesce(${sql.ref(column)}, '')` : sql.ref(column));
  let q = applyFilters(qb, params);
  if (marker) {
    // The marker's values are read in SQL, not sent back from JS: a JS Date would drop
    // the microseconds of now() and the marker row would reappear on the next page.
    const value = (column: string) => {
      const own = sql`(SELECT ${sql.ref(column)} FROM ${sql.table(marker.table)} WHERE id = ${marker.row.id})`;
      return nullableTextColumns.includes(column) ? sql`coalesce(${own}, '')` : own;
    };
    // (c1 > v1) OR (c1 = v1 AND c2 > v2) OR ... with < for descending keys.
    const branches = params.sort.map((key, i) => {
      const equal = params.sort.slice(0, i).map((prev) => sql`${expr(prev.column)} = ${value(prev.column)}`);
      const cmp = key.dir === 'asc' ? sql`>` : sql`<`;
      return sql.join([...equal, sql`${expr(key.column)} ${cmp} ${value(key.column)}`], sql` AND `);
    });
    q = q.where(
      sql<SqlBool>`(${sql.join(
        branches.map((b) => sql`(${b})`),
        sql` OR `,
      )})` as Expression<SqlBool>,
    );
  }
  for (const key of params.sort) q = q.orderBy(expr(key.column), key.dir);
  return q.offset(params.offset).limit(params.limit);
}

/** The filters alone, for counting with the same conditions (with_count). */
export function applyFilters<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  params: ListParams,
): SelectQueryBuilder<DB, TB, O> {
  let q = qb;
  if (params.matchesNothing) q = q.where(sql<SqlBool>`false` as Expression<SqlBool>);
  for (const f of params.filters) {
    q =
      f.op === 'like'
        ? q.where(sql<SqlBool>`${sql.ref(f.column)}::text ILIKE ${`%${escapeLike(f.value)}%`}` as Expression<SqlBool>)
        : q.where(sql<SqlBool>`${sql.ref(f.column)}::text = ${f.value}` as Expression<SqlBool>);
  }
  return q;
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export type SortDir = 'asc' | 'desc';

export interface ListFilter {
  column: string;
  op: 'eq' | 'like';
  value: string;
}

export interface ListParams {
  /** Effective page size (capped at the configured maximum). */
  limit: number;
  /** Whether the client asked for a limit (next links are only offered then). */
  limitGiven: boolean;
  marker: string | null;
  offset: number;
  /** Database columns to order by; created_at and id are always last. */
  sort: Array<{ column: string; dir: SortDir }>;
  withCount: boolean;
  /** True only for admins who asked for it. */
  allTenants: boolean;
  filters: ListFilter[];
  /** An admin filtered on something that is not a column: Cinder answers an empty list. */
  matchesNothing: boolean;
}

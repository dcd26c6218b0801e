import { type RawBuilder, type SelectQueryBuilder, sql } from 'kysely';
import type { Database } from './schema.js';

/**
 * The backup list views rendered by Postgres: each row's Cinder JSON as one text value, byte
 * for byte what `JSON.stringify` makes of routes/cinder/backups.views.ts's objects (the
 * reference path, still used for show, create and update; test/integration/backup-list-json.test.ts
 * compares both over many pages).
 * NOTE: on a 100-item page node-pg building 100 x 19 fields, the view objects and
 * JSON.stringify were most of the request's CPU; here node-pg reads two short fields a row.
 * Why the bytes agree: Postgres' escape_json escapes exactly what JSON.stringify does for
 * valid Unicode ("\\", '"', \b \f \n \r \t, other controls as \u00xx, nothing else: not "/",
 * not U+2028), and text can hold neither NUL nor lone surrogates. Keys are literals here, in
 * the views' order; json_build_object and json_agg are not used (they add spaces).
 */

/** The optional keys of a detail item (routes' DetailOptions). */
export interface BackupJsonDetail {
  metadata: boolean;
  projectId: boolean;
  userId: boolean;
  encryptionKeyId: boolean;
}

/** What one item shows: the summary (id, name, links) or the detail, and its link prefixes. */
export interface BackupJsonView {
  /** null: the summary item. */
  detail: BackupJsonDetail | null;
  /** ".../v3/{project}/backups/" and ".../{project}/backups/": the self and bookmark hrefs before the id. */
  selfPrefix: string;
  bookmarkPrefix: string;
}

/** A page row: the id (for the next link) and the item's JSON text. */
export interface BackupJsonRow {
  id: string;
  json: string;
}

type Column = keyof Database['backups'] & string;
const ref = (c: Column) => sql.ref(`backups.${c}`);
/** A JSON string, or null. */
const text = (c: Column) => sql`coalesce(to_json(${ref(c)})::text, 'null')`;
/** A uuid as a JSON string (no escaping needed), or null. */
const uuid = (c: Column) => sql`coalesce('"' || ${ref(c)}::text || '"', 'null')`;
/**
 * Cinder's "2026-11-22T10:15:03.123000", or null: Postgres' UTC text "2026-11-22 10:15:03.123456"
 * (0 to 6 fraction digits) cut to milliseconds, as http/format.ts does.
 * NOTE: string functions on the ::text form cost Postgres half of what to_char() does.
 */
function time(c: Column) {
  const t = sql`(${ref(c)} AT TIME ZONE 'UTC')::text`;
  const ms = sql`CASE WHEN length(${t}) = 19 THEN ${t} || '.000' ELSE rpad(${t}, 23, '0') END`;
  return sql`coalesce('"' || overlay(${ms} placing 'T' from 11) || '000"', 'null')`;
}

// NOTE: the reference path parses json_object_agg's map with JSON.parse, which puts array-index
// keys ("0" .. "4294967294", canonical) first in ascending order and the others in the order
// read (ctid): the same order is made here.
const ARRAY_INDEX = sql`CASE WHEN m.key ~ '^(0|[1-9][0-9]{0,9})$' THEN CASE WHEN m.key::int8 <= 4294967294 THEN m.key::int8 END END`;
const metadata = sql`'{' || coalesce((SELECT string_agg(to_json(m.key)::text || ':' || to_json(m.value)::text, ',' ORDER BY ${ARRAY_INDEX}, m.ctid) FROM backup_metadata m WHERE m.backup_id = backups.id), '') || '}'`;

function links(v: BackupJsonView): RawBuilder<unknown> {
  const href = (prefix: string) => sql`to_json(${prefix}::text || ${ref('id')}::text)::text`;
  return sql`'[{"rel":"self","href":' || ${href(v.selfPrefix)} || '},{"rel":"bookmark","href":' || ${href(v.bookmarkPrefix)} || '}]'`;
}

const NO_KEY = '00000000-0000-0000-0000-000000000000';

/** The item's JSON: `{"key":value,...}` as a text expression, keys in the views' order. */
function item(v: BackupJsonView): RawBuilder<string> {
  const parts: Array<[string, RawBuilder<unknown>]> = [];
  const d = v.detail;
  if (!d) parts.push(['id', uuid('id')], ['name', text('display_name')], ['links', links(v)]);
  else {
    parts.push(
      ['id', uuid('id')],
      ['status', text('status')],
      ['size', sql`${ref('size')}::text`],
      ['object_count', sql`${ref('object_count')}::text`],
      ['availability_zone', text('availability_zone')],
      ['container', text('container')],
      ['created_at', time('created_at')],
      ['updated_at', time('updated_at')],
      ['name', text('display_name')],
      ['description', text('display_description')],
      ['fail_reason', text('fail_reason')],
      ['volume_id', uuid('volume_id')],
      ['links', links(v)],
      ['is_incremental', sql`CASE WHEN ${ref('parent_id')} IS NULL THEN 'false' ELSE 'true' END`],
      ['has_dependent_backups', sql`CASE WHEN ${ref('num_dependent_backups')} > 0 THEN 'true' ELSE 'false' END`],
      ['snapshot_id', uuid('snapshot_id')],
      ['data_timestamp', time('data_timestamp')],
    );
    if (d.metadata) parts.push(['metadata', metadata]);
    if (d.projectId) parts.push(['os-backup-project-attr:project_id', text('project_id')]);
    if (d.userId) parts.push(['user_id', text('user_id')]);
  }
  const body = sql.join(
    parts.map(([key, value], i) => sql`${sql.lit(`${i ? ',' : '{'}${JSON.stringify(key)}:`)} || ${value}`),
    sql` || `,
  );
  // encryption_key_id only when it is a real key (the views' rule).
  const key = ref('encryption_key_id');
  const tail = d?.encryptionKeyId
    ? sql`CASE WHEN ${key} IS NOT NULL AND ${key} <> '' AND ${key} <> ${sql.lit(NO_KEY)} THEN ',"encryption_key_id":' || to_json(${key})::text ELSE '' END || '}'`
    : sql`'}'`;
  return sql<string>`${body} || ${tail}`;
}

/** Selects a page row's id and JSON text from a query on `backups`. */
export function selectBackupJson(v: BackupJsonView) {
  return (qb: SelectQueryBuilder<Database, 'backups', object>): SelectQueryBuilder<Database, 'backups', BackupJsonRow> =>
    qb.select(['id', item(v).as('json')]);
}

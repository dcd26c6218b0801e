import fc from 'fast-check';

/**
 * fast-check arbitraries for fuzzing the API: valid-ish bodies built from the JSON Schema
 * that fastify-type-provider-zod derives from the routes' zod schemas (the OpenAPI document),
 * with junk mixed in at any node, plus junk path ids, query strings and headers.
 */

type Schema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  additionalProperties?: boolean | Schema;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
};

let known: string[] = ['available'];
/** Real ids (of the fuzz world) that string slots sometimes take, so requests get past lookups. */
export function setKnownStrings(values: string[]): void {
  known = values.length ? values : ['available'];
}

const UUIDISH = [
  '00000000-0000-0000-0000-000000000000',
  'not-a-uuid',
  '{12345678-1234-1234-1234-123456789012}',
  'urn:uuid:12345678123412341234123456789012',
  '12345678-1234-1234-1234-1234567890123',
  '',
  ' ',
  '..',
  '../../etc/passwd',
  '%00',
  'ü'.repeat(36),
];

/** Values of the wrong type, out of range, huge, odd unicode or deeply nested. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constant('x'.repeat(70_000)),
  fc.constant('\u0000\u202e\ud83d\ude00\ufeff'),
  fc.string({ maxLength: 20 }).map((x) => `${x}\u0000${x}`),
  fc.constantFrom(...UUIDISH),
  fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }),
  fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 63, Number.MAX_SAFE_INTEGER + 2, 0.5, -0),
  fc.boolean(),
  fc.constant(null),
  fc.anything({ maxDepth: 3, maxKeys: 4 }),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 4 }),
  fc.constantFrom('True', 'yes', 'on', 'nope', 'NaN', 'Infinity', '1e999', '-1', '00001'),
);

function typed(schema: Schema, depth: number): fc.Arbitrary<unknown> {
  if (depth > 6) return junk;
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((s) => fromSchema(s, depth + 1)));
  if (schema.allOf?.length) return fromSchema(schema.allOf[0]!, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const props = Object.entries(schema.properties ?? {});
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of props) record[k] = fromSchema(v, depth + 1);
      const base = props.length
        ? fc.record(record, { requiredKeys: [] })
        : fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 }), { maxKeys: 3 });
      return fc
        .tuple(base, fc.option(fc.dictionary(fc.string({ maxLength: 10 }), junk, { maxKeys: 2 }), { freq: 4 }))
        .map(([b, extra]) => ({ ...(b as object), ...(extra ?? {}) }));
    }
    case 'array':
      return fc.array(schema.items ? fromSchema(schema.items, depth + 1) : junk, { maxLength: 3 });
    case 'string':
      return fc.oneof(
        fc.string({ maxLength: schema.maxLength ?? 40 }),
        fc.uuid(),
        fc.constantFrom(...known),
        fc.constantFrom('available', 'error', 'creating', 'true', 'false'),
      );
    case 'integer':
      return fc.integer({
        min: typeof schema.minimum === 'number' ? schema.minimum : -5,
        max: typeof schema.maximum === 'number' ? Math.min(schema.maximum, 2 ** 31) : 2000,
      });
    case 'number':
      return fc.double({ noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return junk;
  }
}

/** An arbitrary for a JSON Schema node: mostly shaped like the schema, sometimes junk. */
export function fromSchema(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema) return junk;
  return fc.oneof({ arbitrary: typed(schema, depth), weight: 5 }, { arbitrary: junk, weight: 1 });
}

/** Path parameter values: the real id, invalid UUIDs, path tricks, percent-encoded junk. */
export const pathId = (real: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...real), weight: 4 },
    { arbitrary: fc.uuid(), weight: 1 },
    { arbitrary: fc.constantFrom(...UUIDISH.filter((u) => u.length > 0)).map(encodeURIComponent), weight: 2 },
    { arbitrary: fc.string({ minLength: 1, maxLength: 80 }).map(encodeURIComponent), weight: 2 },
  );

const QUERY_KEYS = [
  'limit',
  'marker',
  'offset',
  'sort',
  'sort_key',
  'sort_dir',
  'with_count',
  'all_tenants',
  'name',
  'status',
  'volume_id',
  'project_id',
  'metadata',
  'usage',
  'is_public',
  'changes-since',
  'fields',
  // Object.prototype members: once made sort and filter lookups return functions.
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
];

/** A query string with known and unknown keys, junk values, repeats and bad encodings. */
export const queryString: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 12 })),
      fc.oneof(
        junk.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
        fc.constantFrom('-1', '0', '1001', 'created_at:desc,id', 'name:sideways', '%zz', '{"a":"b"}', '%00', 'a%00b'),
        fc.constantFrom('constructor', '__proto__:asc', 'toString', 'valueOf:desc', 'hasOwnProperty'),
      ),
    ),
    { maxLength: 5 },
  )
  .map((pairs) =>
    pairs.length
      ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v.startsWith('%') ? v : encodeURIComponent(v.slice(0, 2000))}`).join('&')}`
      : '',
  );

/** OpenStack-API-Version and other headers, valid and invalid. */
export const versionHeader: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'volume 3.0',
    'volume 3.70',
    'volume latest',
    'volume 3.71',
    'volume 2.0',
    'volume 3.',
    'volume 3.07',
    'volume abc',
    'compute 3.40',
    'volume',
    '',
    'volume 3.43, compute 2.1',
    'volume 99999999999999999999.1',
  ),
  fc.string({ maxLength: 30 }).map((s) => `volume ${s}`),
);

/** A request body: JSON of a schema-shaped value, duplicate keys, broken JSON, or none. */
export function rawBody(schema: Schema | undefined): fc.Arbitrary<string | undefined> {
  const value = fromSchema(schema);
  return fc.oneof(
    { arbitrary: value.map((v) => JSON.stringify(v) ?? 'null'), weight: 6 },
    {
      arbitrary: fc.tuple(value, value).map(([a, b]) => {
        const sa = JSON.stringify(a) ?? '{}';
        const sb = JSON.stringify(b) ?? '{}';
        return sa.startsWith('{') && sb.startsWith('{') && sa.length > 2 && sb.length > 2 ? `${sa.slice(0, -1)},${sb.slice(1)}` : sa;
      }),
      weight: 1,
    },
    {
      arbitrary: fc.constantFrom(
        '{',
        '{"a":',
        '[]',
        '"str"',
        '12',
        'null',
        '{"backup": {"volume_id": "x", "volume_id": "y"}}',
        `{"backup": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
        `${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}`,
        '{"volume": {"name": "a\\u0000b", "size": 1}}',
        '{"metadata": {"k\\u0000": "v"}}',
        '\u0000',
        '',
      ),
      weight: 1,
    },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
}

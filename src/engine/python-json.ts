/**
 * Byte-exact reproduction of Python's `json.dumps(value, sort_keys=True, indent=2)` (ensure_ascii on),
 * the way Cinder writes `_metadata` and `_sha256file`. NOTE: JSON.stringify with an indent is close but
 * differs on three points that matter for byte equality: key order (JS puts integer-like keys first),
 * U+007F and non-ASCII characters (Python escapes them as \uXXXX), so this is a small serializer of its own.
 */

export type PyJson = null | boolean | number | string | PyJson[] | { [key: string]: PyJson };

/** Serializes like `json.dumps(value, sort_keys=True, indent=2)`; integers only (no floats are written). */
export function pythonJsonDumps(value: PyJson): string {
  return dump(value, '');
}

function dump(value: PyJson, indent: string): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`pythonJsonDumps: only safe integers are supported, got ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return quote(value);
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + dump(v, inner)).join(',\n')}\n${indent}]`;
  }
  // Python sorts str keys by code point; for the BMP that is UTF-16 code-unit order, which `<` gives.
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (keys.length === 0) return '{}';
  const items = keys.map((k) => `${inner}${quote(k)}: ${dump(value[k] as PyJson, inner)}`);
  return `{\n${items.join(',\n')}\n${indent}}`;
}

/** Python's ensure_ascii quoting: JSON.stringify's escapes, plus \uXXXX for every code unit above '~'. */
function quote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Python's `str(datetime)` of an aware UTC datetime: `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`. */
export function pythonUtcDateString(d: Date): string {
  const iso = d.toISOString(); // 2026-11-23T18:09:21.186Z
  const base = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  const ms = d.getUTCMilliseconds();
  return ms === 0 ? `${base}+00:00` : `${base}.${String(ms * 1000).padStart(6, '0')}+00:00`;
}

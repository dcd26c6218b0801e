import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * SDK-HMAC-SHA256 request signing as the Huawei Cloud SDKs compute it (their
 * signer.Signer): the canonical request is METHOD, the path with each segment
 * percent-encoded and a trailing "/", the sorted query, the signed headers as
 * "name:value" lines, their names ";"-joined, and the hex sha256 of the body.
 * The signature is hex HMAC-SHA256(SK, "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" + hex(sha256(canonical))).
 */

export const ALGORITHM = 'SDK-HMAC-SHA256';
const EMPTY_HASH = createHash('sha256').update('').digest('hex');

/** The parts of `Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`. */
export interface SdkAuthorization {
  accessKey: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses the Authorization header; null when it is not a well-formed SDK-HMAC-SHA256 value. */
export function parseSdkAuthorization(value: string): SdkAuthorization | null {
  const m = /^SDK-HMAC-SHA256\s+(.*)$/.exec(value.trim());
  if (!m) return null;
  const fields = new Map<string, string>();
  for (const part of m[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKey = fields.get('Access');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKey || !signed || !signature || !/^[0-9a-f]{64}$/.test(signature)) return null;
  const signedHeaders = signed.split(';');
  if (signedHeaders.some((h) => h === '' || h !== h.toLowerCase())) return null;
  return { accessKey, signedHeaders, signature };
}

/** Python's urllib.parse.quote(s, safe='~') over the UTF-8 bytes: only A-Z a-z 0-9 _ . - ~ stay. */
export function sdkQuote(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

// A query's "+" is a space (form encoding); a path's is a plus, as Python's unquote reads it.
function decode(s: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(plusIsSpace ? s.replace(/\+/g, ' ') : s);
  } catch {
    return s;
  }
}

/** The canonical URI: each decoded path segment re-encoded, always ending in "/". */
export function canonicalUri(rawPath: string): string {
  const path = rawPath
    .split('/')
    .map((seg) => sdkQuote(decode(seg, false)))
    .join('/');
  return path.endsWith('/') ? path : `${path}/`;
}

/** The canonical query: decoded pairs sorted by key then value, re-encoded, "&"-joined. */
export function canonicalQuery(rawQuery: string): string {
  const pairs = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? [decode(p, true), ''] : [decode(p.slice(0, eq), true), decode(p.slice(eq + 1), true)];
    }) as Array<[string, string]>;
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${sdkQuote(k)}=${sdkQuote(v)}`).join('&');
}

export interface SignedRequest {
  method: string;
  /** The request target as received: path and optional query string. */
  url: string;
  /** Header values by lower-case name, as the SDK sent them (UTF-8 text). */
  headers: Record<string, string | undefined>;
  /** Hex sha256 of the body, or the signed X-Sdk-Content-Sha256 value. */
  payloadHash: string;
}

/** The canonical request the client signed (null when a signed header is missing). */
export function canonicalRequest(req: SignedRequest, signedHeaders: readonly string[]): string | null {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const lines: string[] = [];
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return null;
    lines.push(`${name}:${value.trim()}`);
  }
  return [
    req.method.toUpperCase(),
    canonicalUri(path),
    canonicalQuery(query),
    `${lines.join('\n')}\n`,
    signedHeaders.join(';'),
    req.payloadHash,
  ].join('\n');
}

/** hex HMAC-SHA256(sk, string-to-sign). */
export function signCanonical(canonical: string, sdkDate: string, secretKey: string): string {
  const digest = createHash('sha256').update(canonical, 'utf8').digest('hex');
  const stringToSign = `${ALGORITHM}\n${sdkDate}\n${digest}`;
  return createHmac('sha256', secretKey).update(stringToSign, 'utf8').digest('hex');
}

/** The payload hash the SDK puts in the canonical request: the empty hash for no body. */
export function payloadHash(body: Buffer): string {
  return body.length === 0 ? EMPTY_HASH : createHash('sha256').update(body).digest('hex');
}

/** Constant-time comparison of two hex signatures. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `YYYYMMDDTHHMMSSZ` -> epoch ms, or null. */
export function parseSdkDate(value: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const t = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  const back = new Date(t);
  // Reject rollovers such as month 13 or second 61.
  if (back.getUTCMonth() !== mo! - 1 || back.getUTCDate() !== d! || back.getUTCHours() !== h! || back.getUTCMinutes() !== mi!) {
    return null;
  }
  return t;
}

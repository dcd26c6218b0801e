import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpFault } from './faults.js';

/**
 * Cinder's microversions: `OpenStack-API-Version: volume 3.x` (or `volume latest`),
 * absent = 3.0. Every response says which version it speaks.
 */
export const MIN_VERSION = '3.0';
export const MAX_VERSION = '3.70';
export const VERSIONS_UPDATED = '2022-08-31T00:00:00Z';

export interface ApiVersion {
  major: number;
  minor: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    apiVersion: ApiVersion;
  }
}

const VERSION_RE = /^([1-9]\d*)\.([1-9]\d*|0)$/;

export function parseVersion(text: string): ApiVersion | null {
  const m = VERSION_RE.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

export function compareVersions(a: ApiVersion, b: ApiVersion): number {
  return a.major - b.major || a.minor - b.minor;
}

export function formatVersion(v: ApiVersion): string {
  return `${v.major}.${v.minor}`;
}

const MIN = parseVersion(MIN_VERSION)!;
const MAX = parseVersion(MAX_VERSION)!;

/**
 * The version a header value asks for. Throws HttpFault 400 for a malformed value and
 * 406 for a well-formed one outside [MIN, MAX].
 */
export function negotiate(header: string | undefined): ApiVersion {
  if (header === undefined) return MIN;
  const entry = header
    .split(',')
    .map((s) => s.trim())
    .find((s) => s.toLowerCase().includes('volume'));
  if (!entry) throw new HttpFault(400, 'badRequest', 'Invalid OpenStack-API-Version header: no volume service version.');
  const value = entry.split(/\s+/)[1] ?? '';
  if (value.toLowerCase() === 'latest') return MAX;
  const v = parseVersion(value);
  if (!v) {
    throw new HttpFault(400, 'badRequest', `API Version String ${value} is of invalid format. Must be of format MajorNum.MinorNum.`);
  }
  if (compareVersions(v, MIN) < 0 || compareVersions(v, MAX) > 0) {
    throw new HttpFault(
      406,
      'computeFault',
      `Version ${value} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is ${MAX_VERSION}.`,
    );
  }
  return v;
}

/** True when the request asked for `version` or later (e.g. atLeast(req, '3.43')). */
export function atLeast(req: FastifyRequest, version: string): boolean {
  return compareVersions(req.apiVersion, parseVersion(version)!) >= 0;
}

/** Methods that do not exist below a microversion answer 404, as Cinder does. */
export function requireVersion(req: FastifyRequest, version: string): void {
  if (!atLeast(req, version)) throw new HttpFault(404, 'itemNotFound', 'The resource could not be found.');
}

/** Negotiates on every request and stamps the response headers, errors included. */
export function registerMicroversions(app: FastifyInstance): void {
  app.decorateRequest('apiVersion', null as unknown as ApiVersion);
  app.addHook('onRequest', async (req, reply) => {
    req.apiVersion = MIN; // errors below still answer with a version
    reply.header('Vary', 'OpenStack-API-Version');
    reply.header('OpenStack-API-Version', `volume ${MIN_VERSION}`);
    const raw = req.headers['openstack-api-version'];
    req.apiVersion = negotiate(Array.isArray(raw) ? raw.join(',') : raw);
    reply.header('OpenStack-API-Version', `volume ${formatVersion(req.apiVersion)}`);
  });
}

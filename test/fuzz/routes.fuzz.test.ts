import fc from 'fast-check';
import type { LightMyRequestResponse as Response } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, P1, P2 } from '../integration/backups-fixtures.js';
import { dbFingerprint, expectFaultBody, startApiWorld, type ApiWorld } from '../reliability/api-world.js';
import { baseSeed, report, rounds } from '../reliability/helpers.js';
import { pathId, queryString, rawBody, setKnownStrings, versionHeader } from './arbitraries.js';

/**
 * Every route of the OpenAPI document with generated bodies (from the routes' zod schemas via
 * their JSON Schema, with junk at any node), junk ids, query strings and headers: no 5xx,
 * every error a Cinder fault body, and a rejected request changes nothing in the database.
 * RELIABILITY_LONG=1 runs 10x more cases; RELIABILITY_SEED replays a run.
 */
interface Route {
  method: string;
  path: string;
  body?: Record<string, unknown>;
}
let w: ApiWorld;
let routes: Route[];
const seed = baseSeed();
const figures = { cases: 0, byStatus: {} as Record<number, number>, rejectedChecked: 0 };

beforeAll(async () => {
  w = await startApiWorld();
  // No job runs during the fuzz: the database changes only through the requests themselves.
  await w.stopWorkers();
  setKnownStrings([...w.p1Ids, P1, P2]);
  const doc = w.env.app.swagger() as {
    paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> } }>>;
  };
  routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      body: op.requestBody?.content?.['application/json']?.schema,
    })),
  );
}, 120_000);
afterAll(async () => {
  report('fuzz-routes', { seed, ...figures });
  await w?.env.close();
});

/** The body as text, except a successful binary download, which is drained and checked for its length. */
async function bodyText(res: Response): Promise<string> {
  const binary = res.statusCode < 400 && String(res.headers['content-type'] ?? '').startsWith('application/octet-stream');
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of res.stream()) {
    bytes += (chunk as Buffer).length;
    if (!binary) chunks.push(chunk as Buffer);
  }
  if (binary && res.headers['content-length'] !== undefined) expect(bytes).toBe(Number(res.headers['content-length']));
  return binary ? '' : Buffer.concat(chunks).toString();
}

describe('fuzzing every route', () => {
  it('gives no 5xx, only Cinder fault bodies for errors, and leaves the database unchanged on rejections', async () => {
    expect(routes.length).toBeGreaterThan(30);
    const caseArb = fc.constantFrom(...routes).chain((route) =>
      fc.record({
        route: fc.constant(route),
        id: pathId(w.p1Ids),
        key: fc.oneof(fc.constant('p1key'), fc.string({ minLength: 1, maxLength: 300 }).map(encodeURIComponent)),
        project: fc.constantFrom(P1, P1, P2, ADMIN, 'not-a-project', encodeURIComponent('../x')),
        token: fc.constantFrom(`u:${P1}`, `u:${P2}`, `u:${ADMIN}`, '', 'garbage', `u:${P1}:extra`, 'x'.repeat(5000)),
        query: queryString,
        version: versionHeader,
        contentType: fc.constantFrom(
          'application/json',
          'application/json',
          'application/vnd.openstack.volume+json',
          'text/plain',
          'application/octet-stream',
          'application/json; charset=latin1',
          'multipart/form-data',
        ),
        body: rawBody(route.body),
      }),
    );
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const path = c.route.path
          .replace('{project_id}', c.project)
          .replace('{id}', c.id)
          .replace('{key}', c.key)
          .replace('{target}', c.project);
        const headers: Record<string, string> = { 'content-type': c.contentType };
        if (c.token) headers['x-auth-token'] = c.token;
        if (c.version !== undefined) headers['openstack-api-version'] = c.version;
        const before = await dbFingerprint(w.env);
        const res = await w.env.app.inject({
          method: c.route.method as 'GET',
          url: `${path}${c.query}`,
          headers,
          ...(c.body !== undefined && c.route.method !== 'GET' ? { payload: c.body } : {}),
          // A volume's data download is 1 GiB: as one string it would pass V8's limit and hang the run.
          payloadAsStream: true,
        });
        const body = await bodyText(res);
        figures.cases++;
        figures.byStatus[res.statusCode] = (figures.byStatus[res.statusCode] ?? 0) + 1;
        const where = `${c.route.method} ${path}${c.query.slice(0, 200)} [${c.version}] body=${String(c.body).slice(0, 300)}`;
        expect(res.statusCode, `${where}: ${body.slice(0, 300)}`).toBeLessThan(500);
        if (res.statusCode >= 400) {
          expectFaultBody(res.statusCode, body, where);
          expect(await dbFingerprint(w.env), `rejected request changed the database: ${where}`).toBe(before);
          figures.rejectedChecked++;
        }
      }),
      { seed, numRuns: rounds(4000, 40000), endOnFailure: true },
    );
  }, 900_000);
});

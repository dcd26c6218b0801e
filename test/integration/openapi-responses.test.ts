import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { buildCbrApp } from '../../src/app.js';
import { inertDeps } from '../../src/cli/openapi-document.js';
import { loadConfig } from '../../src/config.js';
import { CINDER_RESPONSES, TROVE_RESPONSES, responsesKey } from '../../src/http/openapi-responses.js';
import { type TestApp, createTestApp } from '../helpers/app.js';

const DOCS = ['openapi.json', 'cbr.json', 'trove.json'].map((f) => ({
  file: f,
  doc: JSON.parse(readFileSync(resolve(import.meta.dirname, '../../openapi', f), 'utf8')),
}));
const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

function operations(doc: any): Array<{ id: string; path: string; responses: Record<string, { description?: string }> }> {
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([m]) => METHODS.includes(m))
      .map(([m, op]) => ({ id: `${m.toUpperCase()} ${path}`, path, responses: op.responses ?? {} })),
  );
}

describe('the committed OpenAPI documents document real responses', () => {
  for (const { file, doc } of DOCS) {
    it(`${file}: every operation has a documented non-default response, and its error statuses`, () => {
      const ops = operations(doc);
      expect(ops.length).toBeGreaterThan(15);
      for (const op of ops) {
        const codes = Object.keys(op.responses);
        // Documented: a body schema, or (no body) a description of its own.
        const documented = (c: string) =>
          (op.responses[c] as any).content !== undefined || op.responses[c]!.description !== 'Default Response';
        const real = codes.filter((c) => /^[1-5]\d\d$/.test(c) && documented(c));
        expect(real.length, `${file} ${op.id}: ${codes.join(',')}`).toBeGreaterThan(0);
        const success = codes.filter((c) => /^[23]\d\d$/.test(c));
        expect(success.length, `${file} ${op.id} has no success status`).toBeGreaterThan(0);
        const api = /^\/(v3|v1\.0)\/\{project_id\}\//.test(op.path);
        if (api) {
          // Behind auth and validation: 400 and 401 always; 404 wherever the path names a resource.
          for (const status of ['400', '401']) expect(codes, `${file} ${op.id}`).toContain(status);
          if (/\{(id|key|target|ds|v|vault_id|checkpoint_id|backup_id|policy_id|operation_log_id|instance_id)\}/.test(op.path))
            expect(codes, `${file} ${op.id}`).toContain('404');
          // Error bodies have a schema, not just a status.
          for (const c of codes.filter((c) => /^[45]/.test(c)))
            expect((op.responses[c] as any).content?.['application/json']?.schema, `${file} ${op.id} ${c}`).toBeDefined();
        }
      }
    });
  }
});

describe('replies match their documented responses', () => {
  let t: TestApp;
  const P = '5f1c0e9b2d6a4c7e8f90a1b2c3d4e5f6';
  const headers = { 'x-auth-token': `u1:${P}` };
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  async function check(
    table: typeof CINDER_RESPONSES,
    method: string,
    route: string,
    url: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<any> {
    const res = await t.app.inject({
      method: method as 'GET',
      url,
      headers: { ...headers, ...extra },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    const documented = table[responsesKey(method, route)];
    expect(documented, `${method} ${route} is in the table`).toBeDefined();
    const schema = documented![res.statusCode] as z.ZodType | { content: unknown } | undefined;
    expect(schema, `${method} ${url} answered ${res.statusCode}, which is not documented: ${res.body}`).toBeDefined();
    if (schema && 'safeParse' in schema && res.body) {
      const parsed = (schema as z.ZodType).safeParse(res.json());
      expect(parsed.success, `${method} ${url} ${res.statusCode}: ${res.body.slice(0, 300)} ${JSON.stringify(parsed.error?.issues)}`).toBe(
        true,
      );
    }
    return res;
  }

  it('Cinder: successes and fault bodies have the documented status and shape', async () => {
    const v = `/v3/${P}`;
    await check(CINDER_RESPONSES, 'GET', '/', '/');
    await check(CINDER_RESPONSES, 'GET', '/v3/', '/v3/');
    await check(CINDER_RESPONSES, 'GET', '/healthz', '/healthz');
    const created = await check(CINDER_RESPONSES, 'POST', '/volumes', `${v}/volumes`, { volume: { size: 1, name: 'doc' } });
    const id = created.json().volume.id as string;
    await check(CINDER_RESPONSES, 'GET', '/volumes', `${v}/volumes`);
    await check(CINDER_RESPONSES, 'GET', '/volumes/detail', `${v}/volumes/detail`);
    await check(CINDER_RESPONSES, 'GET', '/volumes/:id', `${v}/volumes/${id}`);
    await check(CINDER_RESPONSES, 'GET', '/volumes/:id', `${v}/volumes/00000000-0000-4000-8000-000000000000`);
    await check(CINDER_RESPONSES, 'POST', '/volumes', `${v}/volumes`, { volume: { size: 'big' } });
    await check(CINDER_RESPONSES, 'POST', '/volumes', `${v}/volumes`, 'x=1', { 'content-type': 'application/x-www-form-urlencoded' });
    await check(CINDER_RESPONSES, 'PUT', '/volumes/:id/metadata', `${v}/volumes/${id}/metadata`, { metadata: { a: 'b' } });
    await check(CINDER_RESPONSES, 'GET', '/volumes/:id/metadata/:key', `${v}/volumes/${id}/metadata/a`);
    const action = `${v}/volumes/${id}/action`;
    await check(CINDER_RESPONSES, 'POST', '/volumes/:id/action', action, { 'os-show_image_metadata': null });
    await check(CINDER_RESPONSES, 'POST', '/volumes/:id/action', action, { 'os-set_image_metadata': { metadata: { os_distro: 'x' } } });
    await check(CINDER_RESPONSES, 'POST', '/volumes/:id/action', action, { 'os-set_image_metadata': { metadata: { 'a@b': 'x' } } });
    await check(CINDER_RESPONSES, 'POST', '/volumes/:id/action', action, { 'os-unset_image_metadata': { key: 'os_distro' } });
    await check(CINDER_RESPONSES, 'GET', '/snapshots', `${v}/snapshots`);
    await check(CINDER_RESPONSES, 'GET', '/backups/detail', `${v}/backups/detail`);
    await check(CINDER_RESPONSES, 'GET', '/backups/:id', `${v}/backups/00000000-0000-4000-8000-000000000000`);
    await check(CINDER_RESPONSES, 'GET', '/backups/:id/progress', `${v}/backups/00000000-0000-4000-8000-000000000000/progress`);
    await check(CINDER_RESPONSES, 'GET', '/limits', `${v}/limits`);
    await check(CINDER_RESPONSES, 'GET', '/os-quota-sets/:target', `${v}/os-quota-sets/${P}`);
    await check(CINDER_RESPONSES, 'GET', '/os-quota-class-sets/:class_name', `${v}/os-quota-class-sets/default`);
    // A token of another project: 400 "Malformed request url" as Cinder says it.
    await check(CINDER_RESPONSES, 'GET', '/volumes', `${v}/volumes`, undefined, { 'x-auth-token': 'u1:abcdef0123456789abcdef0123456789' });
  });

  it('Trove: successes and fault bodies have the documented status and shape', async () => {
    const v = `/v1.0/${P}`;
    await check(TROVE_RESPONSES, 'GET', '/v1.0/', '/v1.0/');
    await check(TROVE_RESPONSES, 'GET', '/flavors', `${v}/flavors`);
    await check(TROVE_RESPONSES, 'GET', '/datastores', `${v}/datastores`);
    await check(TROVE_RESPONSES, 'GET', '/instances', `${v}/instances`);
    await check(TROVE_RESPONSES, 'GET', '/instances/:id', `${v}/instances/00000000-0000-4000-8000-000000000000`);
    await check(TROVE_RESPONSES, 'GET', '/backups/:id', `${v}/backups/00000000-0000-4000-8000-000000000000`);
  });
});

describe('Swagger UI at /docs', () => {
  async function expectLocalUi(app: { inject: TestApp['app']['inject'] }, committed: unknown): Promise<void> {
    let res = await app.inject({ method: 'GET', url: '/docs' });
    if (res.statusCode === 302) res = await app.inject({ method: 'GET', url: String(res.headers.location).replace(/^\.\//, '/docs/') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    // Assets are served by this listener, never a CDN.
    expect(res.body).not.toMatch(/(src|href)="https?:\/\//);
    const scripts = [...res.body.matchAll(/src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) {
      const asset = await app.inject({ method: 'GET', url: s.startsWith('/') ? s : `/docs/${s.replace(/^\.\//, '')}` });
      expect(asset.statusCode, s).toBe(200);
    }
    const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    expect(init.body).not.toMatch(/https?:\/\/(?!stackoverflow)/);
    const json = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.json()).toEqual(committed);
  }

  it('the Cinder listener serves it with its own document', async () => {
    const t = await createTestApp();
    try {
      await expectLocalUi(t.app, DOCS[0]!.doc);
      // Trove's document (its routes are hidden from the Cinder one) is the second entry of the page.
      const init = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
      expect(init.body).toContain('/docs/trove.json');
      const trove = await t.app.inject({ method: 'GET', url: '/docs/trove.json' });
      expect(trove.statusCode).toBe(200);
      expect(trove.json()).toEqual(DOCS[2]!.doc);
    } finally {
      await t.close();
    }
  });

  it('the CBR listener serves it with its own document', async () => {
    const cbr = await buildCbrApp(inertDeps(loadConfig({})));
    try {
      await expectLocalUi(cbr, DOCS[1]!.doc);
    } finally {
      await cbr.close();
    }
  });
});

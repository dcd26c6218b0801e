import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runningPid } from '../../src/domain/trove/cluster/cluster.js';
import { instancePaths } from '../../src/domain/trove/cluster/paths.js';
import { createTroveEnv, tok, type TroveEnv, waitStatus } from './trove-fixture.js';

const P = 'projtrove1';
const Q = 'projtrove2';

const createBody = (name: string, extra: Record<string, unknown> = {}) => ({
  instance: {
    name,
    flavorRef: '1',
    volume: { size: 1, type: null },
    databases: [{ name: 'db1' }],
    users: [{ name: 'alice', password: 'pw-1', databases: [{ name: 'db1' }] }],
    datastore: { type: 'postgresql', version: '15' },
    access: { is_public: false },
    ...extra,
  },
});

describe('Trove instances: PostgreSQL 15 clusters run by the service', () => {
  let e: TroveEnv;
  let id = '';
  let port = 0;
  beforeAll(async () => {
    e = await createTroveEnv();
  });
  afterAll(async () => e?.close());

  const req = (method: 'GET' | 'POST' | 'DELETE', url: string, project = P, payload?: unknown, headers: Record<string, string> = {}) =>
    e.t.app.inject({
      method,
      url: `/v1.0/${project}${url}`,
      headers: { ...tok(project), ...headers },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  it('create answers 200 BUILD with ip list and port; the GET right after answers 200; it goes ACTIVE/HEALTHY', async () => {
    const res = await req('POST', '/instances', P, createBody('pg1'));
    expect(res.statusCode).toBe(200);
    const inst = res.json().instance;
    expect(inst).toMatchObject({
      name: 'pg1',
      status: 'BUILD',
      flavor: { id: '1' },
      volume: { size: 1 },
      datastore: { type: 'postgresql', version: '15' },
    });
    expect(inst.ip).toEqual(['127.0.0.1']);
    expect(inst.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    id = inst.id;
    port = inst.port;
    expect((await req('GET', `/instances/${id}`)).statusCode).toBe(200);
    const active = await waitStatus(e, P, id, 'ACTIVE');
    expect(active.operating_status).toBe('HEALTHY');
  });

  it('the created user connects over TCP with its password and creates a table in its database', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'alice', password: 'pw-1', database: 'db1' });
    await c.connect();
    await c.query('CREATE TABLE persons (id int primary key, name text)');
    await c.query("INSERT INTO persons VALUES (1, 'a')");
    expect((await c.query('SELECT count(*)::int AS n FROM persons')).rows[0].n).toBe(1);
    await c.end();
  });

  it('list shows it (include_clustered accepted); a name or unknown id is 404 itemNotFound; its backups list is empty', async () => {
    const list = await req('GET', '/instances?include_clustered=False');
    expect(list.statusCode).toBe(200);
    expect(list.json().instances.map((i: { id: string }) => i.id)).toEqual([id]);
    expect(list.json().instances[0]).toMatchObject({ flavor: { id: '1' }, volume: { size: 1 }, ip: ['127.0.0.1'] });
    for (const ref of ['pg1', '00000000-0000-4000-8000-000000000000']) {
      const res = await req('GET', `/instances/${ref}`);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ itemNotFound: { code: 404, message: `Resource ${ref} cannot be found.` } });
    }
    const backups = await req('GET', `/instances/${id}/backups`);
    expect(backups.json()).toEqual({ backups: [] });
  });

  it('tenant isolation: another project sees 404 on every instance route, and a foreign URL project is 403', async () => {
    expect((await req('GET', '/instances', Q)).json().instances).toEqual([]);
    for (const [method, url] of [
      ['GET', `/instances/${id}`],
      ['DELETE', `/instances/${id}`],
      ['GET', `/instances/${id}/backups`],
    ] as const) {
      const res = await req(method, url, Q);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    const foreign = await e.t.app.inject({ url: `/v1.0/${P}/instances/${id}`, headers: tok(Q) });
    expect(foreign.statusCode).toBe(403);
    const post = await e.t.app.inject({ method: 'POST', url: `/v1.0/${P}/instances`, headers: tok(Q), payload: createBody('x') });
    expect(post.statusCode).toBe(403);
  });

  it('supervision: a killed postmaster is restarted', async () => {
    const paths = instancePaths(e.t.config.DATA_DIR, id);
    const pid = runningPid(paths)!;
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    while ((runningPid(paths) === null || runningPid(paths) === pid || !e.supervisor.restarts().get(id)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(runningPid(paths)).not.toBeNull();
    expect(e.supervisor.restarts().get(id)).toBeGreaterThanOrEqual(1);
    await waitStatus(e, P, id, 'ACTIVE');
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'alice', password: 'pw-1', database: 'db1' });
    await c.connect();
    expect((await c.query('SELECT count(*)::int AS n FROM persons')).rows[0].n).toBe(1);
    await c.end();
  });

  it('service restart: instances left running are adopted; stopped ones are started', async () => {
    const paths = instancePaths(e.t.config.DATA_DIR, id);
    const pid = runningPid(paths);
    // Restart with TROVE_LEAVE_INSTANCES_RUNNING semantics: the old supervisor is simply dropped.
    await e.supervisor.stop(); // not leave-running: stops the cluster
    expect(runningPid(paths)).toBeNull();
    await e.restartSupervisor();
    expect(runningPid(paths)).not.toBeNull();
    expect(runningPid(paths)).not.toBe(pid);
  });

  it('delete: 202, then the cluster is stopped, its files removed and the id is 404', async () => {
    const paths = instancePaths(e.t.config.DATA_DIR, id);
    const res = await req('DELETE', `/instances/${id}`, P, undefined, { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(202);
    await waitStatus(e, P, id, 'GONE');
    expect(existsSync(paths.root)).toBe(false);
    expect((await req('GET', '/instances')).json().instances).toEqual([]);
  });
});

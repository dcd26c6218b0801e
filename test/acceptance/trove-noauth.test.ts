import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, waitForStatus } from './harness/clients.js';
import { startService, type RunningService } from './harness/service.js';
import { type PgTarget, openstackTrove, psql, psqlOk, troveLegacy, troveStatus } from './harness/trove.js';

// The database backup workflow with the real clients (python3-troveclient 8.0: `openstack database`
// and the legacy `trove --json`) against the service in noauth mode, and psql into the instances
// it runs. Steps share state and run in order.
const project = randomUUID().replaceAll('-', '');
const user = randomUUID().replaceAll('-', '');
const token = `${user}:${project}`;
const APP = { user: 'app', password: 'app-s3cret', database: 'appdb' };

let svc: RunningService;
let os: Client;
let trove: Client;
const ids = { source: '', full: '', inc: '', fromFull: '', fromInc: '' };
let sourcePg: PgTarget;

const json = <T = Record<string, unknown>>(out: string): T => JSON.parse(out) as T;
const poll = (kind: 'instances' | 'backups', id: string) => () => troveStatus(svc.url, project, kind, id, token);
const osShow = (kind: 'instance' | 'backup', id: string) => async () =>
  String(json(await os.ok(['database', kind, 'show', id, '-f', 'json'])).status);
/** Waits through `openstack database <kind> show` (first and last read) and the API in between. */
const waitFor = (kind: 'instance' | 'backup', id: string, want: string, via: string[]) =>
  waitForStatus(osShow(kind, id), want, {
    via,
    failOn: [],
    poll: poll(kind === 'instance' ? 'instances' : 'backups', id),
    timeoutMs: 540_000,
  }).catch((err: Error) => {
    // The service's last lines name the reason (the clients show only the status).
    throw new Error(`${err.message}\nservice log:\n${svc.logTail()}`);
  });
const waitGone = (kind: 'instances' | 'backups', id: string, via: string[]) =>
  waitForStatus(poll(kind, id), 'gone', { via, failOn: [], timeoutMs: 240_000 });
/** psql connection to an instance, from what `openstack database instance show` prints. */
async function pgOf(id: string): Promise<PgTarget> {
  const inst = json<{ ip: string; port: number }>(await os.ok(['database', 'instance', 'show', id, '-f', 'json']));
  return { host: inst.ip, port: Number(inst.port), ...APP };
}
const rows = async (t: PgTarget) => psqlOk(t, "SELECT id || ':' || note FROM items ORDER BY id");

describe('trove clients, noauth', () => {
  beforeAll(async () => {
    // NOTE: a 20-port window of its own, so parallel files and sessions never collide, below
    // Linux's ephemeral range (32768-60999): there an outgoing connection's local port can take
    // an instance's port between its pick at create and its cluster's start after the restore.
    const first = 21000 + randomInt(0, 250) * 20;
    svc = await startService({ AUTH_STRATEGY: 'noauth', NOAUTH_ADMIN_PROJECTS: '*', TROVE_INSTANCE_PORTS: `${first}-${first + 19}` });
    os = openstackTrove(svc.url, user, project);
    trove = troveLegacy(svc.url, user, project);
  });
  afterAll(async () => svc?.stop());

  it('lists flavors and the postgresql datastore with both clients', async () => {
    const flavors = json<{ Name: string }[]>(await os.ok(['database', 'flavor', 'list', '-f', 'json']));
    expect(flavors.map((f) => f.Name)).toEqual(expect.arrayContaining(['m1.tiny', 'm1.small']));
    expect(json<{ name: string }[]>(await trove.ok(['flavor-list'])).map((f) => f.name)).toContain('m1.small');
    expect(json<{ Name: string }[]>(await os.ok(['datastore', 'list', '-f', 'json'])).map((d) => d.Name)).toEqual(['postgresql']);
    const versions = json<{ Name: string }[]>(await os.ok(['datastore', 'version', 'list', 'postgresql', '-f', 'json']));
    expect(versions.map((v) => v.Name)).toEqual(['15']);
    expect(json<{ name: string }[]>(await trove.ok(['datastore-list'])).map((d) => d.name)).toEqual(['postgresql']);
  });

  it('creates an instance with --databases and --users; the user writes rows with psql', async () => {
    const created = json<{ id: string; status: string }>(
      await os.ok([
        'database',
        'instance',
        'create',
        'acc-pg',
        '--flavor',
        'm1.small',
        '--size',
        '1',
        '--datastore',
        'postgresql',
        '--datastore-version',
        '15',
        '--databases',
        APP.database,
        '--users',
        `${APP.user}:${APP.password}`,
        '-f',
        'json',
      ]),
    );
    expect(created.status).toBe('BUILD');
    ids.source = created.id;
    await waitFor('instance', ids.source, 'ACTIVE', ['BUILD']);
    sourcePg = await pgOf('acc-pg');
    await psqlOk(
      sourcePg,
      "CREATE TABLE items (id int PRIMARY KEY, note text); INSERT INTO items SELECT g, 'full-' || g FROM generate_series(1, 5) g",
    );
    expect(await rows(sourcePg)).toHaveLength(5);
    // A wrong password is refused: the instance holds the user's own credentials.
    expect((await psql({ ...sourcePg, password: 'wrong' }, 'SELECT 1')).code).not.toBe(0);
  });

  it('takes a full backup, more rows, then an incremental (--incremental picks the full as parent)', async () => {
    const full = json<{ id: string; status: string }>(
      await os.ok(['database', 'backup', 'create', 'acc-full', '--instance', 'acc-pg', '--description', 'first', '-f', 'json']),
    );
    expect(full.status).toBe('NEW');
    ids.full = full.id;
    await waitFor('backup', ids.full, 'COMPLETED', ['NEW', 'BUILDING']);
    await psqlOk(sourcePg, "INSERT INTO items SELECT g, 'inc-' || g FROM generate_series(6, 9) g");
    const inc = json<{ id: string; parent_id: string }>(
      await os.ok(['database', 'backup', 'create', 'acc-inc', '--instance', ids.source, '--incremental', '-f', 'json']),
    );
    expect(inc.parent_id).toBe(ids.full);
    ids.inc = inc.id;
    await waitFor('backup', ids.inc, 'COMPLETED', ['NEW', 'BUILDING']);
    // Rows written after the incremental belong to no backup.
    await psqlOk(sourcePg, "INSERT INTO items VALUES (10, 'after')");
  });

  it('lists backups (all, --instance, per instance) and shows them by name and id, with both clients', async () => {
    const all = json<{ ID: string; Name: string; Status: string; 'Parent ID': string | null }[]>(
      await os.ok(['database', 'backup', 'list', '-f', 'json']),
    );
    expect(all.map((b) => [b.Name, b.Status, b['Parent ID']])).toEqual([
      ['acc-inc', 'COMPLETED', ids.full],
      ['acc-full', 'COMPLETED', null],
    ]);
    const byInstance = json<{ ID: string }[]>(await os.ok(['database', 'backup', 'list', '--instance', 'acc-pg', '-f', 'json']));
    expect(byInstance.map((b) => b.ID)).toEqual([ids.inc, ids.full]);
    const ofInstance = json<{ ID: string }[]>(await os.ok(['database', 'backup', 'list', 'instance', 'acc-pg', '-f', 'json']));
    expect(ofInstance.map((b) => b.ID)).toEqual([ids.inc, ids.full]);
    const byName = json<Record<string, unknown>>(await os.ok(['database', 'backup', 'show', 'acc-full', '-f', 'json']));
    expect(byName).toMatchObject({ id: ids.full, name: 'acc-full', description: 'first', status: 'COMPLETED', instance_id: ids.source });
    expect(Number(byName.size)).toBeGreaterThanOrEqual(0.01);
    expect(json(await os.ok(['database', 'backup', 'show', ids.inc, '-f', 'json']))).toMatchObject({
      name: 'acc-inc',
      parent_id: ids.full,
    });

    expect(json<{ id: string }[]>(await trove.ok(['backup-list'])).map((b) => b.id)).toEqual([ids.inc, ids.full]);
    expect(json<{ id: string }[]>(await trove.ok(['backup-list-instance', 'acc-pg'])).map((b) => b.id)).toEqual([ids.inc, ids.full]);
    expect(json(await trove.ok(['backup-show', 'acc-inc']))).toMatchObject({ id: ids.inc, parent_id: ids.full, status: 'COMPLETED' });
    expect(json(await trove.ok(['backup-show', ids.full]))).toMatchObject({ name: 'acc-full' });
    // The clients fall back to the list on an unknown id, so the 404 itself is checked over HTTP.
    const unknown = randomUUID();
    const res = await fetch(`${svc.url}/v1.0/${project}/backups/${unknown}`, { headers: { 'x-auth-token': token } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ itemNotFound: { code: 404, message: `Resource ${unknown} cannot be found.` } });
    expect(await trove.fails(['backup-show', unknown])).toContain('No backup with a name or ID');
  });

  it('restores the full (openstack) and the incremental (trove) into two new instances', async () => {
    const fromFull = json<{ id: string; status: string }>(
      await os.ok([
        'database',
        'instance',
        'create',
        'acc-from-full',
        '--flavor',
        'm1.small',
        '--size',
        '1',
        '--datastore',
        'postgresql',
        '--datastore-version',
        '15',
        '--backup',
        'acc-full',
        '-f',
        'json',
      ]),
    );
    expect(fromFull.status).toBe('BUILD');
    ids.fromFull = fromFull.id;
    const fromInc = json<{ id: string; status: string }>(
      await trove.ok([
        'create',
        'acc-from-inc',
        '1',
        '--size',
        '1',
        '--datastore',
        'postgresql',
        '--datastore_version',
        '15',
        '--backup',
        ids.inc,
      ]),
    );
    ids.fromInc = fromInc.id;
    await waitFor('instance', ids.fromFull, 'ACTIVE', ['BUILD']);
    await waitFor('instance', ids.fromInc, 'ACTIVE', ['BUILD']);
    expect(json(await trove.ok(['show', 'acc-from-inc']))).toMatchObject({ status: 'ACTIVE', operating_status: 'HEALTHY' });
  });

  it('psql into each restored instance, as the same user and password, sees exactly the rows of its point', async () => {
    const full = await pgOf(ids.fromFull);
    const inc = await pgOf(ids.fromInc);
    expect(new Set([sourcePg.port, full.port, inc.port]).size).toBe(3);
    const fullRows = Array.from({ length: 5 }, (_, i) => `${i + 1}:full-${i + 1}`);
    const incRows = [...fullRows, ...[6, 7, 8, 9].map((i) => `${i}:inc-${i}`)];
    expect(await rows(full)).toEqual(fullRows);
    expect(await rows(inc)).toEqual(incRows);
    expect(await rows(sourcePg)).toEqual([...incRows, '10:after']);
    // The restored cluster is writable and independent of its source.
    await psqlOk(full, "INSERT INTO items VALUES (100, 'restored')");
    expect(await rows(sourcePg)).not.toContain('100:restored');
  });

  it('deleting the parent backup deletes its child (openstack), as both clients then see', async () => {
    const out = await os.ok(['database', 'backup', 'delete', 'acc-full']);
    expect(out).toContain(`Request to delete database backup ${ids.full} has been accepted.`);
    await waitGone('backups', ids.full, ['COMPLETED', 'DELETING']);
    await waitGone('backups', ids.inc, ['COMPLETED', 'DELETING']);
    expect(json<unknown[]>(await os.ok(['database', 'backup', 'list', '-f', 'json']))).toEqual([]);
    expect(json<unknown[]>(await trove.ok(['backup-list']))).toEqual([]);
    // Restored instances do not depend on their backups.
    expect(await rows(await pgOf(ids.fromInc))).toHaveLength(9);
  });

  it('deletes the instances (openstack and trove); psql can no longer connect', async () => {
    const inc = await pgOf(ids.fromInc);
    await os.ok(['database', 'instance', 'delete', 'acc-pg']);
    await os.ok(['database', 'instance', 'delete', ids.fromFull]);
    await trove.ok(['delete', 'acc-from-inc']);
    for (const id of [ids.source, ids.fromFull, ids.fromInc]) await waitGone('instances', id, ['ACTIVE', 'SHUTDOWN']);
    expect(json<unknown[]>(await os.ok(['database', 'instance', 'list', '-f', 'json']))).toEqual([]);
    expect((await psql(sourcePg, 'SELECT 1')).code).not.toBe(0);
    expect((await psql(inc, 'SELECT 1')).code).not.toBe(0);
  });
});

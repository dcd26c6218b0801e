import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cinderPassword, openstackPassword, parseProperties } from './harness/clients.js';
import { SERVER_LIST, computeEndpoint, startComputeStub, type ComputeStub } from './harness/compute-stub.js';
import { startGlanceStub, type GlanceStub } from './harness/glance-stub.js';
import { issueToken, keystoneServiceEnv, startKeystone, type KeystoneEnv } from './harness/keystone.js';
import { openstackWorkflow } from './harness/openstack-workflow.js';
import { startService, type RunningService } from './harness/service.js';
import { freePort } from '../../src/db/embedded.js';

// The `openstack` client with password authentication through a real Keystone
// (scripts/keystone/start-keystone.sh); the service runs AUTH_STRATEGY=keystone.
let ks: KeystoneEnv;
let svc: RunningService;
let glance: GlanceStub;
let compute: ComputeStub;

describe('openstack client, Keystone password auth', () => {
  beforeAll(async () => {
    const port = await freePort();
    glance = await startGlanceStub();
    compute = await startComputeStub();
    ks = await startKeystone(`http://127.0.0.1:${port}/v3/%(project_id)s`, glance.url, computeEndpoint(compute));
    svc = await startService({
      PORT: String(port),
      ...keystoneServiceEnv(ks),
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await ks?.stop();
    await glance?.close();
    await compute?.close();
  });

  const alice = (mv?: string) => openstackPassword(ks.authUrl, 'alice', ks.testPassword, 'cbt-alpha', mv);
  const rita = (mv?: string) => openstackPassword(ks.authUrl, 'rita', ks.testPassword, 'cbt-alpha', mv);
  const bob = (mv?: string) => openstackPassword(ks.authUrl, 'bob', ks.testPassword, 'cbt-beta', mv);
  const admin = (mv?: string) => openstackPassword(ks.authUrl, 'admin', ks.adminPassword, 'admin', mv);

  it('rejects a request without a valid token with 401 and a Cinder fault body', async () => {
    const res = await fetch(`${svc.url}/v3/${ks.alphaProjectId}/backups`, { headers: { 'x-auth-token': 'not-a-token' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      unauthorized: { code: 401, message: 'The request you have made requires authentication.' },
    });
  });

  openstackWorkflow(() => ({
    baseUrl: svc.url,
    project: ks.alphaProjectId,
    token: () => issueToken(ks, 'alice', ks.testPassword, 'cbt-alpha'),
    os: alice,
    admin,
    cinder: (mv?: string) => cinderPassword(ks.authUrl, 'alice', ks.testPassword, 'cbt-alpha', mv),
  }));

  it("keeps a second project's user from seeing the first project's backups", async () => {
    const mine = (await alice().ok(['volume', 'backup', 'list', '-f', 'value', '-c', 'ID'])).trim().split('\n').filter(Boolean);
    expect(mine.length).toBeGreaterThan(0);
    expect((await bob().ok(['volume', 'backup', 'list', '-f', 'value', '-c', 'ID'])).trim()).toBe('');
    expect(await bob().fails(['volume', 'backup', 'show', mine[0]!])).toContain(
      `No volumebackup with a name or ID of '${mine[0]}' exists.`,
    );
    // --all-projects is an admin power: a member still sees only their own project.
    expect((await bob().ok(['volume', 'backup', 'list', '--all-projects', '-f', 'value', '-c', 'ID'])).trim()).toBe('');
  });

  it('lets a reader read but not create', async () => {
    const mine = (await alice().ok(['volume', 'list', '-f', 'value', '-c', 'ID'])).trim().split('\n').filter(Boolean);
    expect((await rita().ok(['volume', 'list', '-f', 'value', '-c', 'ID'])).trim().split('\n').filter(Boolean).sort()).toEqual(mine.sort());
    expect(await rita().fails(['volume', 'create', '--size', '1', 'reader-vol'])).toContain(
      "Policy doesn't allow volume:create to be performed.",
    );
    expect(await rita().fails(['volume', 'backup', 'create', mine[0]!])).toContain("Policy doesn't allow backup:create to be performed.");
  });

  it('needed nothing from the image service but version discovery (OSC builds the image client for volume create)', () => {
    expect(glance.requests.length).toBeGreaterThan(0);
    expect(glance.requests.filter((r) => !/^GET \/(v2\/?)?$/.test(r))).toEqual([]);
  });

  // Quotas as an admin sets them with cinder (which sends `tenant_id` in every quota set) and
  // with OSC. Run on cbt-beta, which the workflow above does not use; the default class is put
  // back at the end of each test. OSC 6.0's quota commands build a compute client first, so the
  // catalog lists a compute stub (harness/compute-stub.ts) that answers quota reads with empty sets.
  const adminCinder = () => cinderPassword(ks.authUrl, 'admin', ks.adminPassword, 'admin');
  const quotaValue = (out: string, key: string) => parseProperties(out)[key];

  it('cinder quota-update / quota-show / quota-delete on a project', async () => {
    const beta = ks.betaProjectId;
    expect(quotaValue(await adminCinder().ok(['quota-update', '--backups', '1', '--volumes', '3', beta]), 'backups')).toBe('1');
    expect(parseProperties(await adminCinder().ok(['quota-show', beta]))).toMatchObject({ backups: '1', volumes: '3' });
    await adminCinder().ok(['quota-delete', beta]);
    // Back to the defaults (the harness configures QUOTA_VOLUMES=100).
    expect(quotaValue(await adminCinder().ok(['quota-show', beta]), 'volumes')).toBe('100');
  });

  it('the default quota class: cinder quota-class-update/-show and the defaults a project gets', async () => {
    expect(quotaValue(await adminCinder().ok(['quota-class-show', 'default']), 'volumes')).toBe('100');
    await adminCinder().ok(['quota-class-update', '--backups', '7', '--volumes', '12', 'default']);
    expect(parseProperties(await adminCinder().ok(['quota-class-show', 'default']))).toMatchObject({ volumes: '12', backups: '7' });
    expect(parseProperties(await adminCinder().ok(['quota-defaults', ks.betaProjectId]))).toMatchObject({ volumes: '12', backups: '7' });
    expect(parseProperties(await adminCinder().ok(['quota-show', ks.betaProjectId]))).toMatchObject({ volumes: '12', backups: '7' });
    await adminCinder().ok(['quota-class-update', '--backups', '100', '--volumes', '100', 'default']);
  });

  const osJson = async (args: string[]) => JSON.parse(await admin().ok([...args, '-f', 'json'])) as Record<string, unknown>;

  it('openstack quota set --volumes / quota show on a project, and quota show --default', async () => {
    const beta = ks.betaProjectId;
    await admin().ok(['quota', 'set', '--volumes', '4', '--backups', '2', '--snapshots', '6', 'cbt-beta']);
    expect(await osJson(['quota', 'show', 'cbt-beta'])).toMatchObject({ volumes: 4, backups: 2, snapshots: 6, project: beta });
    expect(parseProperties(await adminCinder().ok(['quota-show', beta]))).toMatchObject({ volumes: '4', backups: '2', snapshots: '6' });
    expect(await osJson(['quota', 'show', '--default', 'cbt-beta'])).toMatchObject({ volumes: 100, backups: 100, snapshots: 100 });
    await adminCinder().ok(['quota-delete', beta]);
    expect(await osJson(['quota', 'show', 'cbt-beta'])).toMatchObject({ volumes: 100, backups: 100 });
  });

  it('openstack quota show --class default and quota set --class', async () => {
    expect(await osJson(['quota', 'show', '--class', 'default'])).toMatchObject({ volumes: 100, backups: 100, gigabytes: 5000 });
    await admin().ok(['quota', 'set', '--class', '--volumes', '9', '--backups', '3', 'default']);
    expect(await osJson(['quota', 'show', '--class', 'default'])).toMatchObject({ volumes: 9, backups: 3 });
    expect(await osJson(['quota', 'show', 'cbt-beta'])).toMatchObject({ volumes: 9, backups: 3 });
    await admin().ok(['quota', 'set', '--class', '--volumes', '100', '--backups', '100', 'default']);
    expect(await osJson(['quota', 'show', '--class', 'default'])).toMatchObject({ volumes: 100, backups: 100 });
  });

  it("asked the compute stub for quota reads and the (empty) server list only (every value shown was the volume service's)", () => {
    expect(compute.requests.length).toBeGreaterThan(0);
    const quotaRead = /^GET \/compute\/v2\.1\/os-quota-(class-)?sets\/[^/]+(\/defaults)?$/;
    expect(compute.requests.filter((r) => !quotaRead.test(r) && r !== `GET ${SERVER_LIST}`)).toEqual([]);
  });
});

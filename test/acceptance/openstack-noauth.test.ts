import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cinderNoauth, openstackNoauth, parseTable } from './harness/clients.js';
import { openstackWorkflow } from './harness/openstack-workflow.js';
import { startService, type RunningService } from './harness/service.js';

// The `openstack` client (python3-openstackclient 6.0) against the service in noauth mode.
const project = randomUUID().replaceAll('-', '');
const user = randomUUID().replaceAll('-', '');
let svc: RunningService;

describe('openstack client, noauth', () => {
  beforeAll(async () => {
    svc = await startService({ AUTH_STRATEGY: 'noauth', NOAUTH_ADMIN_PROJECTS: '*' });
  });
  afterAll(async () => svc?.stop());

  it('reaches /v3/{project} through noauth and lists an empty project', async () => {
    const out = await openstackNoauth(svc.url, user, project).run(['volume', 'backup', 'list']);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(parseTable(out.stdout)).toEqual([]);
  });

  openstackWorkflow(() => ({
    baseUrl: svc.url,
    project,
    token: async () => `${user}:${project}`,
    os: (mv?: string) => openstackNoauth(svc.url, user, project, mv),
    admin: (mv?: string) => openstackNoauth(svc.url, user, project, mv),
    cinder: (mv?: string) => cinderNoauth(svc.url, user, project, mv),
  }));
});

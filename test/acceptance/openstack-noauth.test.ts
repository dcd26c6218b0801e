import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cinderNoauth, openstackNoauth, parseTable, waitForStatus } from './harness/clients.js';
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

  it('sets and unsets image properties: openstack volume set/unset --image-property (os-set/unset_image_metadata)', async () => {
    const os = openstackNoauth(svc.url, user, project);
    const id = JSON.parse(await os.ok(['volume', 'create', '--size', '1', '-f', 'json', 'acc-image-props'])).id as string;
    await waitForStatus(async () => JSON.parse(await os.ok(['volume', 'show', '-f', 'json', id])).status, 'available', {
      via: ['creating'],
    });
    await os.ok(['volume', 'set', '--image-property', 'os_distro=debian', '--image-property', 'hw_disk_bus=scsi', id]);
    const shown = JSON.parse(await os.ok(['volume', 'show', '-f', 'json', id]));
    expect(shown.volume_image_metadata).toEqual({ os_distro: 'debian', hw_disk_bus: 'scsi' });
    await os.ok(['volume', 'unset', '--image-property', 'hw_disk_bus', id]);
    expect(JSON.parse(await os.ok(['volume', 'show', '-f', 'json', id])).volume_image_metadata).toEqual({ os_distro: 'debian' });
    const missing = await os.run(['volume', 'unset', '--image-property', 'no_such_key', id]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('One or more of the unset operations failed');
    await os.ok(['volume', 'delete', id]);
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

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cinderNoauth, openstackNoauth, parseProperties, parseTable, waitForStatus, type Client } from './harness/clients.js';
import { PATTERN_BYTES, apiStatus, putVolumeData, sha256, testPattern, volumeDataSha256, type ResourceKind } from './harness/data.js';
import { startService, type RunningService } from './harness/service.js';

// The `cinder` client (python3-cinderclient 9.1) against the service in noauth mode.
// Steps share state and run in order; each names the Cinder behaviour it checks.
const project = randomUUID().replaceAll('-', '');
const user = randomUUID().replaceAll('-', '');
const token = `${user}:${project}`;
const pattern = testPattern(PATTERN_BYTES);
const patternSha = sha256(pattern);

let svc: RunningService;
let cinder: (mv?: string) => Client;
const ids = {
  vol: '',
  snap: '',
  full: '',
  inc: '',
  fromSnap: '',
  cont: '',
  meta: '',
  az: '',
  used: '',
  forced: '',
  forcedSnap: '',
  target: '',
  imported: '',
};

const show = async (kind: 'show' | 'snapshot-show' | 'backup-show', id: string, mv?: string) =>
  parseProperties(await cinder(mv).ok([kind, id]));
const status = (kind: 'show' | 'snapshot-show' | 'backup-show', id: string) => async () => (await show(kind, id)).status!;
const created = (out: string) => parseProperties(out).id!;
type ShowCmd = 'show' | 'snapshot-show' | 'backup-show';
const collection: Record<ShowCmd, ResourceKind> = { show: 'volumes', 'snapshot-show': 'snapshots', 'backup-show': 'backups' };
const poll = (kind: ShowCmd, id: string) => () => apiStatus(svc.url, project, collection[kind], id, token);
/**
 * Waits through `cinder <kind>` (first and last read) and the API in between; `via` is the only
 * status allowed on the way (default: `creating`, for a create).
 */
const waitFor = (kind: ShowCmd, id: string, want: string | string[], opts: { failOn?: string[]; via?: string[] } = {}) =>
  waitForStatus(status(kind, id), want, { via: ['creating'], ...opts, poll: poll(kind, id) });
const gone = (kind: ShowCmd, id: string) => async () => ((await cinder().run([kind, id])).code === 0 ? 'present' : 'gone');
const waitGone = (kind: ShowCmd, id: string) =>
  waitForStatus(gone(kind, id), 'gone', { poll: poll(kind, id), via: ['present', 'deleting'] });

describe('cinder client, noauth', () => {
  beforeAll(async () => {
    svc = await startService({ AUTH_STRATEGY: 'noauth', NOAUTH_ADMIN_PROJECTS: '*' });
    cinder = (mv?: string) => cinderNoauth(svc.url, user, project, mv);
  });
  afterAll(async () => svc?.stop());

  it('negotiates the microversion from GET / (api-version)', async () => {
    const rows = parseTable(await cinder('3.0').ok(['api-version']));
    expect(rows[0]).toMatchObject({ ID: 'v3.0', Status: 'CURRENT', Min_version: '3.0' });
    expect(Number(rows[0]!.Version!.split('.')[1])).toBeGreaterThanOrEqual(70);
  });

  it('creates, lists, shows, renames and extends a volume, and writes data into it', async () => {
    ids.vol = created(await cinder().ok(['create', '--name', 'acc-vol', '--description', 'source', '1']));
    await waitFor('show', ids.vol, 'available');
    expect(parseTable(await cinder().ok(['list'])).map((r) => r.ID)).toContain(ids.vol);
    await cinder().ok(['rename', ids.vol, 'acc-vol-renamed']);
    await cinder().ok(['extend', ids.vol, '2']);
    await waitFor('show', ids.vol, 'available', { failOn: ['error', 'error_extending'], via: ['extending'] });
    const v = await show('show', ids.vol);
    expect(v).toMatchObject({ name: 'acc-vol-renamed', size: '2', status: 'available' });
    await putVolumeData(svc.url, project, ids.vol, token, pattern);
    expect(await volumeDataSha256(svc.url, project, ids.vol, token, pattern.length)).toBe(patternSha);
  });

  it('sets and clears the bootable flag: cinder set-bootable, openstack volume set --bootable / --non-bootable (os-set_bootable)', async () => {
    await cinder().ok(['set-bootable', ids.vol, 'true']);
    expect((await show('show', ids.vol)).bootable).toBe('true');
    const os = openstackNoauth(svc.url, user, project);
    await os.ok(['volume', 'set', '--non-bootable', ids.vol]);
    expect((await show('show', ids.vol)).bootable).toBe('false');
    await os.ok(['volume', 'set', '--bootable', ids.vol]);
    expect(JSON.parse(await os.ok(['volume', 'show', '-f', 'json', ids.vol])).bootable).toBe('true');
    await cinder().ok(['set-bootable', ids.vol, 'false']);
    expect((await show('show', ids.vol)).bootable).toBe('false');
  });

  it('sets, shows and unsets image metadata: cinder image-metadata set/unset, image-metadata-show (os-*_image_metadata)', async () => {
    const imageMeta = async () =>
      Object.fromEntries(parseTable(await cinder().ok(['image-metadata-show', ids.vol])).map((r) => [r['Metadata-property'], r.Value]));
    expect(await cinder().fails(['image-metadata-show', ids.vol])).toContain(
      `Glance metadata for volume/snapshot ${ids.vol} cannot be found.`,
    );
    await cinder().ok(['image-metadata', ids.vol, 'set', 'os_distro=debian', 'hw_disk_bus=scsi', 'tmp=x']);
    expect(await imageMeta()).toEqual({ os_distro: 'debian', hw_disk_bus: 'scsi', tmp: 'x' });
    await cinder().ok(['image-metadata', ids.vol, 'unset', 'tmp', 'hw_disk_bus']);
    expect(await imageMeta()).toEqual({ os_distro: 'debian' });
    expect((await show('show', ids.vol)).volume_image_metadata).toContain('os_distro');
    expect(await cinder().fails(['image-metadata', ids.vol, 'unset', 'no_such_key'])).toContain(
      `Glance metadata for volume/snapshot ${ids.vol} cannot be found. (HTTP 404)`,
    );
    expect(await cinder().fails(['image-metadata', ids.vol, 'set', 'bad@key=v'])).toContain(
      "Additional properties are not allowed ('bad@key' was unexpected)",
    );
  });

  it('creates a snapshot, lists it with filters, sets/unsets metadata, renames it', async () => {
    ids.snap = created(await cinder().ok(['snapshot-create', '--name', 'acc-snap', ids.vol]));
    await waitFor('snapshot-show', ids.snap, 'available');
    const byVolume = parseTable(await cinder().ok(['snapshot-list', '--volume-id', ids.vol, '--status', 'available']));
    expect(byVolume.map((r) => r.ID)).toEqual([ids.snap]);
    expect(parseTable(await cinder().ok(['snapshot-list', '--name', 'no-such-name']))).toEqual([]);
    await cinder().ok(['snapshot-metadata', ids.snap, 'set', 'tier=gold', 'keep=yes']);
    await cinder().ok(['snapshot-metadata', ids.snap, 'unset', 'keep']);
    await cinder().ok(['snapshot-rename', ids.snap, 'acc-snap-renamed']);
    const s = await show('snapshot-show', ids.snap);
    expect(s.name).toBe('acc-snap-renamed');
    expect(s.metadata).toContain("'tier': 'gold'");
    expect(s.metadata).not.toContain('keep');
  });

  it('backs up a volume at 3.0 (full, with name and description), then incrementally', async () => {
    ids.full = created(await cinder('3.0').ok(['backup-create', '--name', 'acc-full', '--description', 'first', ids.vol]));
    const seen = await waitFor('backup-show', ids.full, 'available');
    expect(seen[0]).toMatch(/creating|available/);
    const b = await show('backup-show', ids.full);
    expect(b).toMatchObject({ name: 'acc-full', description: 'first', is_incremental: 'False', size: '2', volume_id: ids.vol });
    ids.inc = created(await cinder('3.0').ok(['backup-create', '--incremental', '--name', 'acc-inc', ids.vol]));
    await waitFor('backup-show', ids.inc, 'available');
    expect((await show('backup-show', ids.inc)).is_incremental).toBe('True');
    expect((await show('backup-show', ids.full)).has_dependent_backups).toBe('True');
  });

  it('backs up a snapshot, into a named container, with metadata (3.43) and an availability zone (3.51)', async () => {
    ids.fromSnap = created(await cinder('3.0').ok(['backup-create', '--snapshot-id', ids.snap, '--name', 'acc-snapb', ids.vol]));
    await waitFor('backup-show', ids.fromSnap, 'available');
    expect((await show('backup-show', ids.fromSnap)).snapshot_id).toBe(ids.snap);
    const container = `acc-container-${project.slice(0, 8)}`;
    ids.cont = created(await cinder('3.9').ok(['backup-create', '--container', container, ids.vol]));
    await waitFor('backup-show', ids.cont, 'available');
    expect((await show('backup-show', ids.cont)).container).toBe(container);
    ids.meta = created(await cinder('3.43').ok(['backup-create', '--metadata', 'env=ci', ids.vol]));
    await waitFor('backup-show', ids.meta, 'available');
    expect((await show('backup-show', ids.meta, '3.43')).metadata).toContain("'env': 'ci'");
    ids.az = created(await cinder('3.51').ok(['backup-create', '--availability-zone', 'nova', '--name', 'acc-az', ids.vol]));
    await waitFor('backup-show', ids.az, 'available');
    expect((await show('backup-show', ids.az, '3.51')).availability_zone).toBe('nova');
  });

  it('refuses an in-use volume without --force and backs it up with --force; snapshots it with --force', async () => {
    ids.used = created(await cinder().ok(['create', '--name', 'acc-used', '1']));
    await waitFor('show', ids.used, 'available');
    await cinder().ok(['reset-state', '--state', 'in-use', '--attach-status', 'attached', ids.used]);
    const out = await cinder().fails(['backup-create', ids.used]);
    expect(out).toContain('Invalid volume: Backing up an in-use volume must use the force flag.');
    ids.forced = created(await cinder().ok(['backup-create', '--force', '--name', 'acc-forced', ids.used]));
    await waitFor('backup-show', ids.forced, 'available');
    expect((await show('show', ids.used)).status).toBe('in-use');
    ids.forcedSnap = created(await cinder('3.0').ok(['snapshot-create', '--force', 'True', '--name', 'acc-fsnap', ids.used]));
    await waitFor('snapshot-show', ids.forcedSnap, 'available');
  });

  it('lists backups with --all-tenants, --status, --volume-id, --limit/--marker, --sort and --with-count (3.45)', async () => {
    const all = parseTable(await cinder().ok(['backup-list', '--all-tenants']));
    expect(all.map((r) => r.ID)).toEqual(expect.arrayContaining([ids.full, ids.inc, ids.fromSnap, ids.forced]));
    const onVol = parseTable(await cinder().ok(['backup-list', '--volume-id', ids.used, '--status', 'available']));
    expect(onVol.map((r) => r.ID)).toEqual([ids.forced]);
    const sorted = parseTable(await cinder('3.37').ok(['backup-list', '--sort', 'name:asc', '--name', 'acc-full']));
    expect(sorted.map((r) => r.Name)).toEqual(['acc-full']);
    const first = parseTable(await cinder().ok(['backup-list', '--limit', '2', '--sort', 'created_at:asc']));
    expect(first).toHaveLength(2);
    const next = parseTable(await cinder().ok(['backup-list', '--limit', '2', '--sort', 'created_at:asc', '--marker', first[1]!.ID!]));
    expect(next.map((r) => r.ID)).not.toContain(first[0]!.ID);
    expect(next.map((r) => r.ID)).not.toContain(first[1]!.ID);
    const counted = parseTable(await cinder('3.45').ok(['backup-list', '--with-count']));
    expect(counted.length).toBeGreaterThanOrEqual(7);
  });

  it('updates a backup name, description and metadata (3.9, 3.43)', async () => {
    await cinder('3.43').ok(['backup-update', '--name', 'acc-full-2', '--description', 'renamed', '--metadata', 'a=b', ids.full]);
    expect(await show('backup-show', ids.full, '3.43')).toMatchObject({ name: 'acc-full-2', description: 'renamed' });
    expect((await show('backup-show', ids.full, '3.43')).metadata).toContain("'a': 'b'");
  });

  it('restores into an existing volume and into a new named volume, with the written bytes', async () => {
    ids.target = created(await cinder().ok(['create', '--name', 'acc-target', '2']));
    await waitFor('show', ids.target, 'available');
    await cinder().ok(['backup-restore', '--volume', ids.target, ids.inc]);
    await waitFor('backup-show', ids.inc, 'available', { failOn: ['error'], via: ['restoring'] });
    await waitFor('show', ids.target, 'available', { failOn: ['error', 'error_restoring'], via: ['restoring-backup'] });
    expect(await volumeDataSha256(svc.url, project, ids.target, token, pattern.length)).toBe(patternSha);
    const out = parseProperties(await cinder().ok(['backup-restore', '--name', 'acc-restored', ids.full]));
    expect(out.volume_name).toBe('acc-restored');
    await waitFor('show', out.volume_id!, 'available', { failOn: ['error', 'error_restoring'], via: ['restoring-backup'] });
    expect(await volumeDataSha256(svc.url, project, out.volume_id!, token, pattern.length)).toBe(patternSha);
    // The backup kept the source's image metadata (volume_meta), and the restore put it back, bootable.
    expect(await show('show', out.volume_id!)).toMatchObject({
      bootable: 'true',
      volume_image_metadata: expect.stringContaining('os_distro'),
    });
  });

  it('creates a volume from a backup (3.47)', async () => {
    const id = created(await cinder('3.47').ok(['create', '--backup-id', ids.fromSnap, '--name', 'acc-from-backup', '2']));
    await waitFor('show', id, 'available', { failOn: ['error', 'error_restoring'], via: ['creating', 'restoring-backup'] });
    expect(await volumeDataSha256(svc.url, project, id, token, pattern.length)).toBe(patternSha);
  });

  it('exports a backup record and imports it under a new id (3.70, the newest both speak)', async () => {
    const rec = parseProperties(await cinder('3.70').ok(['backup-export', ids.meta]));
    expect(rec.backup_service).toMatch(/^cinder\.backup\.drivers/);
    const decoded = JSON.parse(Buffer.from(rec.backup_url!, 'base64').toString('utf8')) as Record<string, unknown>;
    const newId = randomUUID();
    const url = Buffer.from(JSON.stringify({ ...decoded, id: newId })).toString('base64');
    await cinder('3.70').ok(['backup-import', rec.backup_service!, url]);
    await waitFor('backup-show', newId, 'available');
    ids.imported = newId;
  });

  it("prints Cinder's messages for refused requests and exits non-zero", async () => {
    const small = created(await cinder().ok(['create', '--name', 'acc-small', '1']));
    await waitFor('show', small, 'available');
    expect(await cinder().fails(['backup-restore', '--volume', small, ids.full])).toContain(
      'Invalid volume: volume size 1 is too small to restore backup of size 2.',
    );
    expect(await cinder().fails(['backup-delete', ids.full])).toContain('Invalid backup: Incremental backups exist for this backup.');
    const unknown = randomUUID();
    expect(await cinder().fails(['backup-export', unknown])).toContain(`Backup ${unknown} could not be found.`);
    expect(await cinder().fails(['create', '5001'])).toMatch(
      /VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota\. Requested 5001G, quota is 5000G and \d+G has been consumed\./,
    );
    const huge = created(await cinder().ok(['create', '--name', 'acc-huge', '1500']));
    await waitFor('show', huge, 'available');
    expect(await cinder().fails(['backup-create', huge])).toMatch(
      /VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota\. Requested 1500G, quota is 1000G and \d+G has been consumed\./,
    );
  });

  it('resets a backup state, force-deletes and deletes backups', async () => {
    await cinder().ok(['backup-reset-state', '--state', 'error', ids.az]);
    await waitFor('backup-show', ids.az, 'error', { failOn: [], via: [] });
    await cinder().ok(['backup-delete', ids.az]);
    await cinder().ok(['backup-delete', '--force', ids.cont]);
    await cinder().ok(['backup-delete', ids.inc]);
    await cinder().ok(['backup-delete', ids.imported]);
    for (const id of [ids.az, ids.cont, ids.inc, ids.imported]) {
      await waitGone('backup-show', id);
    }
    await cinder().ok(['backup-delete', ids.full]);
    await waitGone('backup-show', ids.full);
  });

  it('deletes snapshots and volumes', async () => {
    await cinder().ok(['snapshot-delete', ids.snap]);
    await waitGone('snapshot-show', ids.snap);
    await cinder().ok(['delete', ids.target]);
    await waitGone('show', ids.target);
  });
});

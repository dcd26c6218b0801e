import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { parseProperties, waitForStatus, type Client } from './clients.js';
import { PATTERN_BYTES, apiStatus, putVolumeData, sha256, testPattern, volumeDataSha256, type ResourceKind } from './data.js';

/** Who drives the workflow: the owner (a project member) and an admin (reset state, force delete, records). */
export interface WorkflowContext {
  baseUrl: string;
  project: string;
  /** X-Auth-Token for the data extension, as the owner. */
  token: () => Promise<string>;
  os: (mv?: string) => Client;
  admin: (mv?: string) => Client;
  /** `cinder` as the owner, for the one step OSC 6.0 has no option for (volume from backup, 3.47). */
  cinder: (mv?: string) => Client;
}

// OSC 6.0 accepts only X.Y microversions: 3.70 is the newest it and the service share ("latest").
const LATEST = '3.70';
// OSC 6.0.0 sends the restore (202) and then fails printing it (cinder-api.md §12.2).
const OSC_RESTORE_CRASH = 'cannot unpack non-iterable VolumeBackupsRestore object';

/** Registers, in order, the complete `openstack` workflow of issue 6; `ctx` is read when the steps run. */
export function openstackWorkflow(ctx: () => WorkflowContext): void {
  const pattern = testPattern(PATTERN_BYTES);
  const patternSha = sha256(pattern);
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
    target: '',
    imported: '',
  };
  const json = async (c: Client, args: string[]) => JSON.parse(await c.ok([...args, '-f', 'json'])) as Record<string, unknown>;
  const idOf = async (c: Client, args: string[]) => (await c.ok([...args, '-f', 'value', '-c', 'id'])).trim();
  type Kind = 'volume' | 'volume snapshot' | 'volume backup';
  const collection: Record<Kind, ResourceKind> = { volume: 'volumes', 'volume snapshot': 'snapshots', 'volume backup': 'backups' };
  const statusOf = (kind: Kind, id: string) => async () => String((await json(ctx().os('3.0'), [...kind.split(' '), 'show', id])).status);
  const gone = (kind: Kind, id: string) => async () =>
    (
      await ctx()
        .os()
        .run([...kind.split(' '), 'show', id])
    ).code === 0
      ? 'present'
      : 'gone';
  // One token per workflow: a Keystone token lives an hour, and issuing one costs a password check.
  let cachedToken: string | undefined;
  const token = async (): Promise<string> => (cachedToken ??= await ctx().token());
  const poll = (kind: Kind, id: string) => async () => apiStatus(ctx().baseUrl, ctx().project, collection[kind], id, await token());
  /**
   * Waits through `openstack ... show` (first and last read) and the API in between; `via` is
   * the only status allowed on the way (default: `creating`, for a create).
   */
  const waitFor = (kind: Kind, id: string, want: string | string[], opts: { failOn?: string[]; via?: string[] } = {}) =>
    waitForStatus(statusOf(kind, id), want, { via: ['creating'], ...opts, poll: poll(kind, id) });
  const waitGone = (kind: Kind, id: string) =>
    waitForStatus(gone(kind, id), 'gone', { poll: poll(kind, id), via: ['present', 'deleting'] });
  const sha = async (id: string) => volumeDataSha256(ctx().baseUrl, ctx().project, id, await token(), pattern.length);
  const os = (mv?: string) => ctx().os(mv);

  it('creates, lists, shows, renames and extends a volume, and writes data into it', async () => {
    ids.vol = await idOf(os(), ['volume', 'create', '--size', '1', '--description', 'source', 'osc-vol']);
    await waitFor('volume', ids.vol, 'available');
    expect((await os().ok(['volume', 'list', '-f', 'value', '-c', 'ID'])).split('\n')).toContain(ids.vol);
    await os().ok(['volume', 'set', '--name', 'osc-vol-renamed', ids.vol]);
    await os().ok(['volume', 'set', '--size', '2', ids.vol]);
    await waitFor('volume', ids.vol, 'available', { failOn: ['error', 'error_extending'], via: ['extending'] });
    expect(await json(os(), ['volume', 'show', ids.vol])).toMatchObject({ name: 'osc-vol-renamed', size: 2 });
    await putVolumeData(ctx().baseUrl, ctx().project, ids.vol, await token(), pattern);
    expect(await sha(ids.vol)).toBe(patternSha);
  });

  it('creates a snapshot, lists it with filters, sets/unsets properties, renames it', async () => {
    ids.snap = await idOf(os(), ['volume', 'snapshot', 'create', '--volume', ids.vol, 'osc-snap']);
    await waitFor('volume snapshot', ids.snap, 'available');
    const listed = await os().ok(['volume', 'snapshot', 'list', '--volume', ids.vol, '--status', 'available', '-f', 'value', '-c', 'ID']);
    expect(listed.trim().split('\n')).toEqual([ids.snap]);
    await os().ok(['volume', 'snapshot', 'set', '--property', 'tier=gold', '--property', 'keep=yes', ids.snap]);
    await os().ok(['volume', 'snapshot', 'unset', '--property', 'keep', ids.snap]);
    await os().ok(['volume', 'snapshot', 'set', '--name', 'osc-snap-renamed', ids.snap]);
    const s = await json(os(), ['volume', 'snapshot', 'show', ids.snap]);
    expect(s.name).toBe('osc-snap-renamed');
    expect(s.properties).toEqual({ tier: 'gold' });
  });

  it('backs up full at 3.0 with name and description, then --incremental', async () => {
    ids.full = await idOf(os('3.0'), ['volume', 'backup', 'create', '--name', 'osc-full', '--description', 'first', ids.vol]);
    await waitFor('volume backup', ids.full, 'available');
    expect(await json(os(), ['volume', 'backup', 'show', ids.full])).toMatchObject({
      name: 'osc-full',
      description: 'first',
      is_incremental: false,
      size: 2,
      volume_id: ids.vol,
    });
    ids.inc = await idOf(os('3.0'), ['volume', 'backup', 'create', '--incremental', '--name', 'osc-inc', ids.vol]);
    await waitFor('volume backup', ids.inc, 'available');
    expect((await json(os(), ['volume', 'backup', 'show', ids.inc])).is_incremental).toBe(true);
    expect((await json(os(), ['volume', 'backup', 'show', ids.full])).has_dependent_backups).toBe(true);
  });

  it('backs up --snapshot, --container, --property (3.43) and --availability-zone (3.51)', async () => {
    ids.fromSnap = await idOf(os('3.0'), ['volume', 'backup', 'create', '--snapshot', ids.snap, '--name', 'osc-snapb', ids.vol]);
    await waitFor('volume backup', ids.fromSnap, 'available');
    expect((await json(os(), ['volume', 'backup', 'show', ids.fromSnap])).snapshot_id).toBe(ids.snap);
    const container = `osc-container-${ctx().project.slice(0, 8)}`;
    ids.cont = await idOf(os('3.9'), ['volume', 'backup', 'create', '--container', container, ids.vol]);
    await waitFor('volume backup', ids.cont, 'available');
    expect((await json(os(), ['volume', 'backup', 'show', ids.cont])).container).toBe(container);
    ids.meta = await idOf(os('3.43'), ['volume', 'backup', 'create', '--property', 'env=ci', '--name', 'osc-meta', ids.vol]);
    await waitFor('volume backup', ids.meta, 'available');
    expect((await json(os('3.43'), ['volume', 'backup', 'show', ids.meta])).metadata).toEqual({ env: 'ci' });
    ids.az = await idOf(os('3.51'), ['volume', 'backup', 'create', '--availability-zone', 'nova', '--name', 'osc-az', ids.vol]);
    await waitFor('volume backup', ids.az, 'available');
    expect((await json(os('3.51'), ['volume', 'backup', 'show', ids.az])).availability_zone).toBe('nova');
  });

  it('refuses an in-use volume without --force, backs it up and snapshots it with --force', async () => {
    ids.used = await idOf(os(), ['volume', 'create', '--size', '1', 'osc-used']);
    await waitFor('volume', ids.used, 'available');
    await ctx().admin().ok(['volume', 'set', '--state', 'in-use', '--attached', ids.used]);
    expect(await os().fails(['volume', 'backup', 'create', ids.used])).toContain(
      'Invalid volume: Backing up an in-use volume must use the force flag.',
    );
    ids.forced = await idOf(os(LATEST), ['volume', 'backup', 'create', '--force', '--name', 'osc-forced', ids.used]);
    await waitFor('volume backup', ids.forced, 'available');
    expect(await statusOf('volume', ids.used)()).toBe('in-use');
    const fsnap = await idOf(os('3.0'), ['volume', 'snapshot', 'create', '--force', '--volume', ids.used, 'osc-fsnap']);
    await waitFor('volume snapshot', fsnap, 'available');
  });

  it('lists backups with --long, --all-projects, --status, --volume, --limit/--marker and sorting (3.45 too)', async () => {
    const long = JSON.parse(await os().ok(['volume', 'backup', 'list', '--long', '-f', 'json'])) as Record<string, unknown>[];
    expect(Object.keys(long[0]!)).toEqual(
      expect.arrayContaining(['ID', 'Name', 'Status', 'Size', 'Availability Zone', 'Volume', 'Container']),
    );
    const all = await ctx().admin().ok(['volume', 'backup', 'list', '--all-projects', '-f', 'value', '-c', 'ID']);
    expect(all.split('\n')).toEqual(expect.arrayContaining([ids.full, ids.inc, ids.forced]));
    const onUsed = await os().ok(['volume', 'backup', 'list', '--volume', ids.used, '--status', 'available', '-f', 'value', '-c', 'ID']);
    expect(onUsed.trim().split('\n')).toEqual([ids.forced]);
    const page1 = (await os().ok(['volume', 'backup', 'list', '--limit', '2', '-f', 'value', '-c', 'ID'])).trim().split('\n');
    expect(page1).toHaveLength(2);
    const page2 = (await os().ok(['volume', 'backup', 'list', '--limit', '2', '--marker', page1[1]!, '-f', 'value', '-c', 'ID']))
      .trim()
      .split('\n');
    expect(page2.filter((id) => page1.includes(id))).toEqual([]);
    const names = (
      await os('3.45').ok(['volume', 'backup', 'list', '--sort-column', 'Name', '--sort-ascending', '-f', 'value', '-c', 'Name'])
    )
      .trim()
      .split('\n');
    // OSC sorts on the client (cliff): unnamed backups (None) last, the others in order.
    const unnamed = names.filter((n) => n === 'None');
    expect(unnamed).toHaveLength(1);
    expect(names).toEqual([...names.filter((n) => n !== 'None').sort(), ...unnamed]);
    expect(names).toEqual(expect.arrayContaining(['osc-full', 'osc-inc', 'osc-snapb']));
  });

  it('sets a backup name, description (3.9) and property (3.43)', async () => {
    await os('3.43').ok(['volume', 'backup', 'set', '--name', 'osc-full-2', '--description', 'renamed', '--property', 'a=b', ids.full]);
    expect(await json(os('3.43'), ['volume', 'backup', 'show', ids.full])).toMatchObject({
      name: 'osc-full-2',
      description: 'renamed',
      metadata: { a: 'b' },
    });
  });

  it('restores into an existing volume and into a new volume by name, with the written bytes', async () => {
    ids.target = await idOf(os(), ['volume', 'create', '--size', '2', 'osc-target']);
    await waitFor('volume', ids.target, 'available');
    const r1 = await os().run(['volume', 'backup', 'restore', '--force', ids.inc, ids.target]);
    if (r1.code !== 0) expect(r1.stderr).toContain(OSC_RESTORE_CRASH);
    await waitFor('volume', ids.target, ['restoring-backup', 'available'], { failOn: ['error', 'error_restoring'], via: [] });
    await waitFor('volume backup', ids.inc, 'available', { via: ['restoring'] });
    await waitFor('volume', ids.target, 'available', { failOn: ['error', 'error_restoring'], via: ['restoring-backup'] });
    expect(await sha(ids.target)).toBe(patternSha);
    const r2 = await os().run(['volume', 'backup', 'restore', ids.full, 'osc-restored']);
    if (r2.code !== 0) expect(r2.stderr).toContain(OSC_RESTORE_CRASH);
    const restored = JSON.parse(await os().ok(['volume', 'list', '--name', 'osc-restored', '-f', 'json'])) as { ID: string }[];
    expect(restored).toHaveLength(1);
    await waitFor('volume', restored[0]!.ID, 'available', { failOn: ['error', 'error_restoring'], via: ['restoring-backup'] });
    expect(await sha(restored[0]!.ID)).toBe(patternSha);
  });

  it('creates a volume from a backup (3.47, through cinder: OSC 6.0 has no volume create --backup)', async () => {
    expect(await os('3.47').fails(['volume', 'create', '--backup', ids.fromSnap, '--size', '2', 'osc-from-backup'])).toContain(
      'unrecognized arguments: --backup',
    );
    const id = parseProperties(await ctx().cinder('3.47').ok(['create', '--backup-id', ids.fromSnap, '--name', 'osc-from-backup', '2']))
      .id!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor('volume', id, 'available', { failOn: ['error', 'error_restoring'], via: ['creating', 'restoring-backup'] });
    expect(await sha(id)).toBe(patternSha);
  });

  it('exports a backup record and imports it under a new id', async () => {
    const rec = await json(ctx().admin(), ['volume', 'backup', 'record', 'export', ids.meta]);
    expect(String(rec.backup_service)).toMatch(/^cinder\.backup\.drivers/);
    const decoded = JSON.parse(Buffer.from(String(rec.backup_url), 'base64').toString('utf8')) as Record<string, unknown>;
    ids.imported = randomUUID();
    const url = Buffer.from(JSON.stringify({ ...decoded, id: ids.imported })).toString('base64');
    await ctx()
      .admin()
      .ok(['volume', 'backup', 'record', 'import', String(rec.backup_service), url]);
    const show = async () => String((await json(ctx().admin(), ['volume', 'backup', 'show', ids.imported])).status);
    await waitForStatus(show, 'available', { via: ['creating'] });
  });

  it("prints Cinder's messages for refused requests and exits non-zero", async () => {
    const small = await idOf(os(), ['volume', 'create', '--size', '1', 'osc-small']);
    await waitFor('volume', small, 'available');
    expect(await os().fails(['volume', 'backup', 'restore', '--force', ids.full, small])).toContain(
      'Invalid volume: volume size 1 is too small to restore backup of size 2.',
    );
    expect(await os().fails(['volume', 'backup', 'delete', ids.full])).toContain(
      'Invalid backup: Incremental backups exist for this backup.',
    );
    const unknown = randomUUID();
    // OSC looks ids up itself (GET, then by name): the 404 surfaces as its own lookup message.
    expect(await os().fails(['volume', 'backup', 'show', unknown])).toContain(`No volumebackup with a name or ID of '${unknown}' exists.`);
    expect(await os().fails(['volume', 'create', '--size', '5001', 'osc-too-big'])).toMatch(
      /VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota\. Requested 5001G, quota is 5000G and \d+G has been consumed\./,
    );
  });

  it('resets a backup state, force-deletes and deletes backups, snapshots and volumes', async () => {
    await ctx().admin().ok(['volume', 'backup', 'set', '--state', 'error', ids.az]);
    await waitFor('volume backup', ids.az, 'error', { failOn: [], via: [] });
    await os().ok(['volume', 'backup', 'delete', ids.az]);
    await ctx().admin().ok(['volume', 'backup', 'delete', '--force', ids.cont]);
    await os().ok(['volume', 'backup', 'delete', ids.inc]);
    // The import belongs to the admin's project (the same one in noauth): its owner deletes it.
    await ctx().admin().ok(['volume', 'backup', 'delete', ids.imported]);
    for (const id of [ids.az, ids.cont, ids.inc]) await waitGone('volume backup', id);
    await waitForStatus(
      async () => ((await ctx().admin().run(['volume', 'backup', 'show', ids.imported])).code === 0 ? 'present' : 'gone'),
      'gone',
      {
        via: ['present'],
      },
    );
    await os().ok(['volume', 'backup', 'delete', ids.full]);
    await waitGone('volume backup', ids.full);
    await os().ok(['volume', 'snapshot', 'delete', ids.snap]);
    await waitGone('volume snapshot', ids.snap);
    await os().ok(['volume', 'delete', ids.target]);
    await waitGone('volume', ids.target);
  });
}

import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PosixObjectStore } from '../../src/storage/posix-store.js';
import { ADMIN, type BackupTestEnv, P1, backupTestEnv, makeVolume } from './backups-fixtures.js';

/**
 * Export a backup record, import it into a FRESH database (same store) and restore from it;
 * tempest's flow (change the id, import next to the original); bad imports end in error.
 */

describe('backup export and import records', { timeout: 240_000 }, () => {
  let a: BackupTestEnv;
  let b: BackupTestEnv;
  const moto = inject('motoEndpoint');
  const s3: Record<string, string> = moto
    ? { BACKUP_STORE: 's3', S3_ENDPOINT: moto, S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's', S3_BUCKET: `rec${Date.now()}` }
    : {};
  beforeAll(async () => {
    a = await backupTestEnv(s3, true);
    // B shares only the store (the same bucket, or A's posix directory), never the database.
    const shared = moto ? {} : { store: new PosixObjectStore(join(a.dataDir, 'backups'), a.config.S3_BUCKET) };
    b = await backupTestEnv(s3, true, shared);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a record exported here imports into a fresh database and restores byte-identically', async () => {
    const vol = await makeVolume(a, P1, { size: 1 });
    const fh = await open(a.deps.volumes.volumePath(vol), 'r+');
    await fh.write(randomBytes(3 * 1024 * 1024 + 123), 0, undefined, 5 * 1024 * 1024);
    await fh.close();
    const source = await readFile(a.deps.volumes.volumePath(vol));
    const created = await a.call('POST', '/backups', P1, { backup: { volume_id: vol, name: 'exported', metadata: { k: 'v' } } }, '3.43');
    const id = created.json.backup.id;
    const done = await a.waitBackup(id, P1, (x) => x.status !== 'creating');
    expect(done.status).toBe('available');

    const exp = await a.call('GET', `/backups/${id}/export_record`, ADMIN);
    expect(exp.status).toBe(200);
    const rec = exp.json['backup-record'];
    expect(rec.backup_service).toBe(a.deps.store.serviceName);
    expect(rec.backup_service.startsWith('cinder.backup.drivers')).toBe(true);
    const decoded = JSON.parse(Buffer.from(rec.backup_url, 'base64').toString('utf8'));
    expect(decoded).toMatchObject({
      id,
      driver_info: {},
      display_name: 'exported',
      size: 1,
      object_count: done.object_count,
      metadata: { k: 'v' },
      parent_id: null,
      deleted: false,
    });
    expect(decoded.container).toBe(done.container);
    expect(decoded.service_metadata).toMatch(new RegExp(`^volume_${vol}/\\d{14}/az_nova_backup_${id}$`));
    expect(decoded.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const imp = await b.call('POST', '/backups/import_record', ADMIN, { 'backup-record': rec });
    expect(imp.status).toBe(201);
    expect(imp.json.backup).toEqual({ id, name: null, links: expect.any(Array) });
    const got = await b.waitBackup(id, ADMIN, (x) => x.status !== 'creating');
    expect(got).toMatchObject({
      status: 'available',
      name: 'exported',
      size: 1,
      object_count: done.object_count,
      volume_id: vol,
      container: done.container,
    });

    const restore = await b.call('POST', `/backups/${id}/restore`, ADMIN, { restore: { name: 'from-import' } });
    expect(restore.status).toBe(202);
    expect(restore.json.restore.volume_name).toBe('from-import');
    await b.waitBackup(id, ADMIN, (x) => x.status === 'available');
    const target = await b.t.db
      .selectFrom('volumes')
      .select('status')
      .where('id', '=', restore.json.restore.volume_id)
      .executeTakeFirstOrThrow();
    expect(target.status).toBe('available');
    expect((await readFile(b.deps.volumes.volumePath(restore.json.restore.volume_id))).equals(source)).toBe(true);

    // Importing the same id again is refused; tempest's changed id imports next to the original.
    const again = await b.call('POST', '/backups/import_record', ADMIN, { 'backup-record': rec });
    expect(again.json).toEqual({ badRequest: { code: 400, message: 'Invalid backup: Backup already exists in database.' } });
    const twin = { ...decoded, id: '7e7e7e7e-1111-4222-8333-444444444444' };
    const twinImp = await a.call('POST', '/backups/import_record', ADMIN, {
      'backup-record': { backup_service: rec.backup_service, backup_url: Buffer.from(JSON.stringify(twin)).toString('base64') },
    });
    expect(twinImp.status).toBe(201);
    expect((await a.waitBackup(twin.id, ADMIN, (x) => x.status !== 'creating')).status).toBe('available');
  }, 360_000);

  it("deleting an admin's imported twin of a member's backup keeps the member's objects; the record's counters and a foreign parent_id are refused or ignored", async () => {
    const vol = await makeVolume(a, P1, { size: 1 });
    const fh = await open(a.deps.volumes.volumePath(vol), 'r+');
    await fh.write(randomBytes(1024 * 1024), 0, undefined, 0);
    await fh.close();
    const source = await readFile(a.deps.volumes.volumePath(vol));
    const created = await a.call('POST', '/backups', P1, { backup: { volume_id: vol, name: 'original' } });
    const id = created.json.backup.id;
    expect((await a.waitBackup(id, P1, (x) => x.status !== 'creating')).status).toBe('available');
    const rec = (await a.call('GET', `/backups/${id}/export_record`, ADMIN)).json['backup-record'];
    const decoded = JSON.parse(Buffer.from(rec.backup_url, 'base64').toString('utf8'));
    const encode = (r: Record<string, unknown>) => ({
      backup_service: rec.backup_service,
      backup_url: Buffer.from(JSON.stringify(r)).toString('base64'),
    });
    const keysOf = () => a.deps.store.list(decoded.container, decoded.service_metadata);
    const stored = (await keysOf()).length;
    expect(stored).toBeGreaterThan(2);

    // A parent in another project, or no backup at all: 400 before any row exists.
    for (const parent of [id, '0f0f0f0f-0000-4000-8000-000000000000', 'nonsense']) {
      const rid = `8c8c8c8c-0000-4000-8000-00000000000${parent === id ? 1 : parent === 'nonsense' ? 3 : 2}`;
      const r = await a.call('POST', '/backups/import_record', ADMIN, {
        'backup-record': encode({ ...decoded, id: rid, parent_id: parent }),
      });
      expect(r.status).toBe(400);
      expect(r.json.badRequest.message).toMatch(/parent_id .* is not a backup of project/);
      expect(await a.t.db.selectFrom('backups').select('id').where('id', '=', rid).executeTakeFirst()).toBeUndefined();
    }

    // tempest's flow: the admin imports the member's backup under a new id, with a made-up counter.
    const twin = '8c8c8c8c-0000-4000-8000-0000000000aa';
    const imp = await a.call('POST', '/backups/import_record', ADMIN, {
      'backup-record': encode({ ...decoded, id: twin, num_dependent_backups: 1000000 }),
    });
    expect(imp.status).toBe(201);
    const got = await a.waitBackup(twin, ADMIN, (x) => x.status !== 'creating');
    expect(got.status).toBe('available');
    expect(got.has_dependent_backups).toBe(false);

    // Deleting the twin leaves the objects the member's backup still uses.
    expect((await a.call('DELETE', `/backups/${twin}`, ADMIN)).status).toBe(202);
    await a.waitBackup(twin, ADMIN, (x) => x.status === 'http 404');
    expect((await keysOf()).length).toBe(stored);
    const restore = await a.call('POST', `/backups/${id}/restore`, P1, { restore: {} });
    expect(restore.status).toBe(202);
    await a.waitBackup(id, P1, (x) => x.status === 'available');
    const target = restore.json.restore.volume_id;
    for (let i = 0; i < 200; i++) {
      const v = await a.t.db.selectFrom('volumes').select('status').where('id', '=', target).executeTakeFirstOrThrow();
      if (v.status !== 'restoring-backup') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await a.t.db.selectFrom('volumes').select('status').where('id', '=', target).executeTakeFirstOrThrow()).status).toBe(
      'available',
    );
    expect((await readFile(a.deps.volumes.volumePath(target))).equals(source)).toBe(true);

    // The last owner's delete removes them.
    expect((await a.call('DELETE', `/backups/${id}`, P1)).status).toBe(202);
    await a.waitBackup(id, P1, (x) => x.status === 'http 404');
    expect(await keysOf()).toEqual([]);
  }, 240_000);

  it('an import sharing the objects of a backup that is not at rest, or overlapping its prefix, is refused with 400 and writes no row', async () => {
    const vol = await makeVolume(a, P1, { size: 1 });
    const id = (await a.call('POST', '/backups', P1, { backup: { volume_id: vol, name: 'owner' } })).json.backup.id;
    expect((await a.waitBackup(id, P1, (x) => x.status !== 'creating')).status).toBe('available');
    const rec = (await a.call('GET', `/backups/${id}/export_record`, ADMIN)).json['backup-record'];
    const decoded = JSON.parse(Buffer.from(rec.backup_url, 'base64').toString('utf8'));
    const importAs = (rid: string, extra: Record<string, unknown> = {}) =>
      a.call('POST', '/backups/import_record', ADMIN, {
        'backup-record': {
          backup_service: rec.backup_service,
          backup_url: Buffer.from(JSON.stringify({ ...decoded, id: rid, ...extra })).toString('base64'),
        },
      });
    const rowOf = (rid: string) => a.t.db.selectFrom('backups').select('id').where('id', '=', rid).executeTakeFirst();

    for (const status of ['deleting', 'creating', 'error']) {
      await a.t.db.updateTable('backups').set({ status }).where('id', '=', id).execute();
      const rid = `6d6d6d6d-0000-4000-8000-00000000000${status.length}`;
      const r = await importAs(rid);
      expect(r.json, status).toEqual({
        badRequest: { code: 400, message: `Invalid backup: The record's objects belong to backup ${id}, which is ${status}.` },
      });
      expect(await rowOf(rid)).toBeUndefined();
    }
    await a.t.db.updateTable('backups').set({ status: 'available' }).where('id', '=', id).execute();

    const overlap = await importAs('6d6d6d6d-0000-4000-8000-0000000000ff', { service_metadata: `${decoded.service_metadata}-00001` });
    expect(overlap.json).toEqual({
      badRequest: { code: 400, message: `Invalid backup: The record's objects overlap those of backup ${id}.` },
    });
    expect(await rowOf('6d6d6d6d-0000-4000-8000-0000000000ff')).toBeUndefined();

    // The same id as the live owner: Cinder's "already exists".
    expect((await importAs(id)).json).toEqual({ badRequest: { code: 400, message: 'Invalid backup: Backup already exists in database.' } });
    // At rest again, a twin under a new id is tempest's flow and imports.
    const twin = '6d6d6d6d-0000-4000-8000-0000000000aa';
    expect((await importAs(twin)).status).toBe(201);
    expect((await a.waitBackup(twin, ADMIN, (x) => x.status !== 'creating')).status).toBe('available');
  });

  it('an import whose objects are not in the store ends in error with a fail_reason', async () => {
    const record = {
      id: '9a9a9a9a-0000-4000-8000-000000000009',
      size: 1,
      display_name: null,
      display_description: null,
      container: b.deps.store.defaultContainer,
      service_metadata: 'volume_x/20260101000000/az_nova_backup_none',
      object_count: 1,
    };
    const r = await b.call('POST', '/backups/import_record', ADMIN, {
      'backup-record': { backup_service: b.deps.store.serviceName, backup_url: Buffer.from(JSON.stringify(record)).toString('base64') },
    });
    expect(r.status).toBe(201);
    const got = await b.waitBackup(record.id, ADMIN, (x) => x.status !== 'creating');
    expect(got.status).toBe('error');
    expect(got.fail_reason).toContain('Import record failed');
  });

  it("an import for another backup service ends in error; a record missing Cinder's fields too", async () => {
    const mk = (id: string, extra: Record<string, unknown>, service: string) =>
      b.call('POST', '/backups/import_record', ADMIN, {
        'backup-record': { backup_service: service, backup_url: Buffer.from(JSON.stringify({ id, size: 1, ...extra })).toString('base64') },
      });
    await mk('9b9b9b9b-0000-4000-8000-000000000001', {}, 'cinder.backup.drivers.swift.SwiftBackupDriver');
    await mk('9b9b9b9b-0000-4000-8000-000000000002', {}, b.deps.store.serviceName);
    const one = await b.waitBackup('9b9b9b9b-0000-4000-8000-000000000001', ADMIN, (x) => x.status !== 'creating');
    expect(one.fail_reason).toBe(
      'Import record failed, cannot find backup service to perform the import. Request service cinder.backup.drivers.swift.SwiftBackupDriver.',
    );
    const two = await b.waitBackup('9b9b9b9b-0000-4000-8000-000000000002', ADMIN, (x) => x.status !== 'creating');
    expect(two.fail_reason).toBe('Driver successfully decoded imported backup data, but there are missing fields.');
  });

  it('the backup service must match exactly (or be the driver module): "" and "cinder" end in error', async () => {
    const mk = (id: string, service: string) =>
      b.call('POST', '/backups/import_record', ADMIN, {
        'backup-record': { backup_service: service, backup_url: Buffer.from(JSON.stringify({ id, size: 1 })).toString('base64') },
      });
    const module = b.deps.store.serviceName.slice(0, b.deps.store.serviceName.lastIndexOf('.'));
    const cases: Array<[string, string, RegExp]> = [
      ['9b9b9b9b-0000-4000-8000-000000000011', '', /cannot find backup service/],
      ['9b9b9b9b-0000-4000-8000-000000000012', 'cinder', /cannot find backup service/],
      ['9b9b9b9b-0000-4000-8000-000000000013', `${b.deps.store.serviceName}X`, /cannot find backup service/],
      ['9b9b9b9b-0000-4000-8000-000000000014', module, /missing fields/],
    ];
    for (const [id, service] of cases) await mk(id, service);
    for (const [id, service, reason] of cases) {
      const got = await b.waitBackup(id, ADMIN, (x) => x.status !== 'creating');
      expect(got.fail_reason, service).toMatch(reason);
    }
  });
});

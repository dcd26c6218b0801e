import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { cinderNoauth, parseProperties, parseTable, waitForStatus, type Client } from './harness/clients.js';
import { PATTERN_BYTES, apiStatus, putVolumeData, sha256, testPattern, volumeDataSha256 } from './harness/data.js';
import { startService, type RunningService } from './harness/service.js';

// One backup record: what a CBR checkpoint backs up is a Cinder backup of that volume, which the
// real `cinder` client (python3-cinderclient 9.1) lists, shows and restores like its own.
const project = randomUUID().replaceAll('-', '');
const user = randomUUID().replaceAll('-', '');
const token = `${user}:${project}`;
const pattern = testPattern(PATTERN_BYTES);

let svc: RunningService;
let cbrUrl: string;
let cinder: Client;

async function cbr(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${cbrUrl}/v3/${project}${path}`, {
    method,
    headers: { 'x-auth-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const ids = { vol: '', vault: '', backup: '', restored: '' };

describe('a CBR checkpoint backup through the cinder client', () => {
  beforeAll(async () => {
    const cbrPort = await freePort();
    svc = await startService({ AUTH_STRATEGY: 'noauth', CBR_PORT: String(cbrPort) });
    cbrUrl = `http://127.0.0.1:${cbrPort}`;
    cinder = cinderNoauth(svc.url, user, project);
  });
  afterAll(async () => svc?.stop());

  it('checkpoints a vault holding a volume that cinder created and filled', async () => {
    ids.vol = parseProperties(await cinder.ok(['create', '1', '--name', 'cbr-disk'])).id!;
    await waitForStatus(async () => apiStatus(svc.url, project, 'volumes', ids.vol, token), 'available', { via: ['creating'] });
    await putVolumeData(svc.url, project, ids.vol, token, pattern);

    const billing = { object_type: 'disk', protect_type: 'backup', consistent_level: 'crash_consistent', size: 10 };
    const vault = await cbr('POST', '/vaults', {
      vault: { name: 'cinder-visible', billing, resources: [{ id: ids.vol, type: 'OS::Cinder::Volume' }] },
    });
    expect(vault.status, JSON.stringify(vault.json)).toBe(200);
    ids.vault = vault.json.vault.id;
    const cp = await cbr('POST', '/checkpoints', { checkpoint: { vault_id: ids.vault, parameters: { incremental: false } } });
    expect(cp.status, JSON.stringify(cp.json)).toBe(200);
    await waitForStatus(async () => (await cbr('GET', `/checkpoints/${cp.json.checkpoint.id}`)).json.checkpoint.status, 'available', {
      via: ['protecting'],
      timeoutMs: 300_000,
    });
    const listed = await cbr('GET', `/backups?checkpoint_id=${cp.json.checkpoint.id}`);
    expect(listed.json.backups).toHaveLength(1);
    expect(listed.json.backups[0]).toMatchObject({ resource_id: ids.vol, status: 'available', vault_id: ids.vault });
    ids.backup = listed.json.backups[0].id;
  });

  it('cinder backup-list and backup-show show that backup as one of the volume', async () => {
    const rows = parseTable(await cinder.ok(['backup-list', '--volume-id', ids.vol]));
    expect(rows.map((r) => [r.ID, r.Status])).toEqual([[ids.backup, 'available']]);
    const shown = parseProperties(await cinder.ok(['backup-show', ids.backup]));
    expect(shown).toMatchObject({ id: ids.backup, volume_id: ids.vol, status: 'available', size: '1' });
  });

  it('cinder backup-restore brings its bytes back into a new volume', async () => {
    const out = parseProperties(await cinder.ok(['backup-restore', ids.backup, '--name', 'from-cbr']));
    ids.restored = out.volume_id!;
    await waitForStatus(async () => apiStatus(svc.url, project, 'volumes', ids.restored, token), 'available', {
      via: ['creating', 'restoring-backup'],
      timeoutMs: 300_000,
    });
    expect(await volumeDataSha256(svc.url, project, ids.restored, token, pattern.length)).toBe(sha256(pattern));
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type BackupTestEnv, P1, P2, backupTestEnv, insertBackups } from './backups-fixtures.js';

/** Lists with 1,000+ backups: keyset pagination by next links, sort, filters, with_count, offset. */

describe('backup lists', () => {
  let env: BackupTestEnv;
  let p1Ids: string[];
  beforeAll(async () => {
    env = await backupTestEnv();
    p1Ids = await insertBackups(
      env.t.db,
      Array.from({ length: 1100 }, (_, i) => ({
        project_id: P1,
        display_name: i % 10 === 0 ? `alpha-${i}` : `beta-${i}`,
        status: i % 7 === 0 ? 'error' : 'available',
      })),
    );
    await insertBackups(
      env.t.db,
      Array.from({ length: 30 }, () => ({ project_id: P2, display_name: 'other' })),
    );
  }, 120_000);
  afterAll(async () => env.close());

  const get = (url: string, project = P1, version?: string) => env.call('GET', url, project, undefined, version);

  it('following backups_links with limit=100 visits all 1,100 backups once, newest first', async () => {
    const seen: string[] = [];
    let url: string | null = '/backups?limit=100';
    for (let page = 0; url && page < 20; page++) {
      const r = await get(url);
      expect(r.status).toBe(200);
      seen.push(...r.json.backups.map((b: { id: string }) => b.id));
      const next: string | undefined = r.json.backups_links?.[0]?.href;
      expect(next === undefined || next.startsWith(`http://localhost:80/v3/${P1}/backups?`)).toBe(true);
      url = next ? next.slice(next.indexOf(`/v3/${P1}`) + `/v3/${P1}`.length) : null;
    }
    expect(seen.length).toBe(1100);
    expect(new Set(seen).size).toBe(1100);
    expect(seen).toEqual([...p1Ids].reverse());
  });

  it('without limit a page holds at most 1000 (osapi_max_limit) and offers a next link', async () => {
    const r = await get('/backups/detail');
    expect(r.json.backups.length).toBe(1000);
    expect(r.json.backups_links[0].rel).toBe('next');
    expect(r.json.backups_links[0].href).toContain('/backups/detail?marker=');
  });

  it('with_count (3.45) counts with the filters; below 3.45 it is an invalid filter for members', async () => {
    const r = await get('/backups?with_count=true&limit=5&status=error', P1, '3.45');
    expect(r.json.count).toBe(p1Ids.filter((_, i) => i % 7 === 0).length);
    expect(r.json.backups.length).toBe(5);
    const old = await get('/backups?with_count=true', P1, '3.44');
    expect(old.status).toBe(400);
    expect(old.json.badRequest.message).toBe('Invalid filters with_count are found in query options.');
  });

  it('sorts by name only from 3.37', async () => {
    expect((await get('/backups?sort=name:asc&limit=3', P1, '3.36')).json.badRequest.message).toBe(
      'Invalid input received: Invalid sort key',
    );
    const r = await get('/backups?sort=name:asc&limit=3', P1, '3.37');
    expect(r.json.backups.map((b: { name: string }) => b.name)).toEqual(['alpha-0', 'alpha-10', 'alpha-100']);
  });

  it('name~ is a LIKE filter from 3.34; exact name filter before', async () => {
    const like = await get('/backups?name~=pha-10&limit=1000', P1, '3.34');
    const expected = Array.from({ length: 1100 }, (_, i) => (i % 10 === 0 ? `alpha-${i}` : `beta-${i}`)).filter((n) =>
      n.includes('pha-10'),
    );
    expect(expected.length).toBe(12);
    expect(like.json.backups.map((b: { name: string }) => b.name).sort()).toEqual(expected.sort());
    const exact = await get('/backups?name=alpha-10', P1);
    expect(exact.json.backups.map((b: { name: string }) => b.name)).toEqual(['alpha-10']);
  });

  it('offset applies after the marker; bad limit/offset/sort dir are 400 with Cinder messages', async () => {
    const r = await get(`/backups?marker=${p1Ids[1099]}&offset=2&limit=2`);
    expect(r.json.backups.map((b: { id: string }) => b.id)).toEqual([p1Ids[1096], p1Ids[1095]]);
    expect((await get('/backups?limit=x')).json.badRequest.message).toBe('limit param must be an integer');
    expect((await get('/backups?limit=-1')).json.badRequest.message).toBe('limit param must be positive');
    expect((await get('/backups?sort_dir=up')).json.badRequest.message).toBe("Unknown sort direction, must be 'desc' or 'asc'.");
    expect((await get('/backups?marker=not-a-uuid')).status).toBe(404);
  });

  it('members may not filter on other columns from 3.31; admins may, and all_tenants widens only for admins', async () => {
    expect((await get('/backups?project_id=x', P1, '3.31')).json.badRequest.message).toBe(
      'Invalid filters project_id are found in query options.',
    );
    const admin = await get(`/backups?all_tenants=1&project_id=${P2}&limit=1000`, ADMIN);
    expect(admin.json.backups.length).toBe(30);
    expect((await get('/backups?all_tenants=maybe')).json.badRequest.message).toBe("all_tenants must be a boolean, got 'maybe'.");
    const member = await get('/backups?all_tenants=1&limit=1000&name=other');
    expect(member.json.backups).toEqual([]);
  });

  it('list items are exactly id, name, links; a list without limit that fits has only the backups key', async () => {
    const r = await get('/backups', P2);
    expect(Object.keys(r.json)).toEqual(['backups']);
    expect(Object.keys(r.json.backups[0]).sort()).toEqual(['id', 'links', 'name']);
  });
});

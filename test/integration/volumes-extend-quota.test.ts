import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, createTestApp, type TestApp } from '../helpers/app.js';

const P = '3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a';

describe('os-extend and the gigabytes quota', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ QUOTA_GIGABYTES: '3', NOAUTH_ADMIN_PROJECTS: 'adadadad' });
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.app.inject({ method, url: `/v3/${P}${url}`, headers: authHeaders(P), payload: payload as object });

  it('refuses an extend past the quota with 413 and leaves the volume as it was, then allows one that fits', async () => {
    const created = await call('POST', '/volumes', { volume: { size: 1, name: 'q' } });
    expect(created.statusCode).toBe(202);
    const id = created.json().volume.id as string;
    const over = await call('POST', `/volumes/${id}/action`, { 'os-extend': { new_size: 4 } });
    expect(over.statusCode).toBe(413);
    expect(over.json().overLimit.message).toBe(
      'VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 3G, quota is 3G and 1G has been consumed.',
    );
    const still = (await call('GET', `/volumes/${id}`)).json().volume;
    expect([still.status, still.size]).toEqual(['available', 1]);
    const ok = await call('POST', `/volumes/${id}/action`, { 'os-extend': { new_size: 3 } });
    expect(ok.statusCode).toBe(202);
    const deadline = Date.now() + 10_000;
    let vol = still;
    while (Date.now() < deadline && (vol.status !== 'available' || vol.size !== 3)) {
      await new Promise((r) => setTimeout(r, 50));
      vol = (await call('GET', `/volumes/${id}`)).json().volume;
    }
    expect([vol.status, vol.size]).toEqual(['available', 3]);
  });
});

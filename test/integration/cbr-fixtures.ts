import type { FastifyInstance } from 'fastify';
import { buildCbrApp } from '../../src/app.js';
import type { CbrApiOptions } from '../../src/routes/cbr/index.js';
import { type BackupTestEnv, P1, P2, backupTestEnv } from './backups-fixtures.js';

export { ADMIN, P1, P2, makeVolume } from './backups-fixtures.js';

/** One AK/SK per project (CBR_ACCESS_KEYS), as BasicCredentials(ak, sk, project_id) holds them. */
export const KEY1 = { ak: 'AKP1QWERTYUIOPASDFGH', sk: 'sk-one-3f1c9a0e7b2d4c58', project: P1 };
export const KEY2 = { ak: 'AKP2ZXCVBNMLKJHGFDSA', sk: 'sk-two-8e2b6d1f0a9c3e47', project: P2, user: 'u2222222' };
export const CBR_ACCESS_KEYS = `${KEY1.ak}:${KEY1.sk}:${KEY1.project},${KEY2.ak}:${KEY2.sk}:${KEY2.project}:${KEY2.user}`;

export interface CbrTestEnv extends BackupTestEnv {
  cbr: FastifyInstance;
  /** A CBR call with a noauth X-Auth-Token for `project` (user u<project>). `raw` is the body as sent. */
  api(
    method: string,
    path: string,
    opts?: { project?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; json: any; raw: string; headers: Record<string, unknown> }>;
}

/**
 * The backups test env (real Postgres, posix store, file volumes, a job worker when asked) plus
 * the CBR listener's app built on the same deps, with KEY1/KEY2 configured.
 */
export async function cbrTestEnv(env: Record<string, string> = {}, withWorker = false, options: CbrApiOptions = {}): Promise<CbrTestEnv> {
  const base = await backupTestEnv({ CBR_ACCESS_KEYS, ...env }, withWorker);
  const cbr = await buildCbrApp(base.deps, options);
  await cbr.ready();
  const api: CbrTestEnv['api'] = async (method, path, opts = {}) => {
    const project = opts.project ?? P1;
    const res = await cbr.inject({
      method: method as 'GET',
      url: `/v3/${project}${path}`,
      headers: { 'x-auth-token': `u${project.slice(0, 7)}:${project}`, ...(opts.headers ?? {}) },
      ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
    });
    let json: unknown = null;
    try {
      json = res.body ? JSON.parse(res.body) : null;
    } catch {
      json = null;
    }
    return { status: res.statusCode, json, raw: res.body, headers: res.headers };
  };
  return {
    ...base,
    cbr,
    api,
    close: async () => {
      await cbr.close();
      await base.close();
    },
  };
}

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/process.js';
import { until } from '../helpers/until.js';
import {
  BRIDGE_ADDRESS,
  type HostProcess,
  type NetHost,
  alive,
  cannotRun,
  createNetwork,
  lockRun,
  postgresBin,
  removeNetwork,
  spawnIn,
  unlockRun,
} from './netns.js';

/**
 * Jobs follow their data, on real hosts on one machine: three network namespaces (A, B, C), each
 * with its own address and DATA_DIR, reach one Postgres and one S3 server (moto) on the bridge
 * address through veth pairs. A runs an API only (ROLE=api); B and C each run an API that creates
 * their volumes and a worker (ROLE=worker) with the same HOST_ID and DATA_DIR (the README's rule).
 * C's worker is SIGKILLed in the middle of concurrent backups: B's jobs finish, C's wait with a
 * visible reason (never error), store-only jobs of C's backups run on B, and C's jobs run when its
 * worker is back; every restore is byte-identical. Prints the timings and bytes re-uploaded.
 */
const why = cannotRun();
if (why) console.log(`three-host namespace test skipped: ${why}`);

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const PROJECT = '0123456789abcdef0123456789abcdef';
const API_PORT = 18201;
const METRICS_PORT = 18202;
const PG_PORT = 18232;
const S3_PORT = 18233;
const LEASE_SECONDS = 5;
const TAIL_OFFSET = 512 * MiB;

interface Host extends NetHost {
  dataDir: string;
  api?: HostProcess;
  worker?: HostProcess;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(why !== null)('three hosts in network namespaces', { timeout: 600_000 }, () => {
  let work: string;
  let pgDir: string;
  let hosts: Record<'A' | 'B' | 'C', Host>;
  let moto: HostProcess | undefined;
  let pgStarted = false;
  let locked = false;
  let db: pg.Client | undefined;
  const pgBin = postgresBin()!;
  const everyProcess = (): HostProcess[] =>
    Object.values(hosts ?? {}).flatMap((h) => [h.api, h.worker].filter((p): p is HostProcess => p !== undefined));

  const serviceEnv = (h: Host, role: 'api' | 'worker', extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ROLE: role,
    HOST_ID: h.name,
    DATA_DIR: h.dataDir,
    HOST: h.address,
    PORT: String(API_PORT),
    CBR_PORT: '0',
    ...(role === 'worker' ? { METRICS_PORT: String(METRICS_PORT) } : {}),
    DATABASE_URL: `postgres://postgres@${BRIDGE_ADDRESS}:${PG_PORT}/postgres`,
    BACKUP_STORE: 's3',
    S3_ENDPOINT: `http://${BRIDGE_ADDRESS}:${S3_PORT}`,
    S3_ACCESS_KEY_ID: 'hosts',
    S3_SECRET_ACCESS_KEY: 'hosts',
    S3_BUCKET: 'hosts-test',
    BACKUP_COMPRESSION: 'none',
    BACKUP_OBJECT_SIZE: String(4 * MiB),
    BACKUP_WORKER_THREADS: '2',
    JOB_LEASE_SECONDS: String(LEASE_SECONDS),
    JOB_POLL_MS: '200',
    DATA_UPLOADS_PER_PROJECT: '8',
    LOG_LEVEL: 'info',
    ...extra,
  });

  function start(h: Host, role: 'api' | 'worker', extra?: Record<string, string>): HostProcess {
    return spawnIn(h.ns, process.execPath, ['--import', 'tsx', 'src/main.ts'], serviceEnv(h, role, extra), ROOT);
  }

  async function ready(h: Host, p: HostProcess, port: number): Promise<void> {
    await until(
      `${h.name}'s process on ${port}`,
      async () => {
        if (!alive(p)) throw new Error(`${h.name}'s process exited:\n${p.output().slice(-3000)}`);
        try {
          return (await fetch(`http://${h.address}:${port}/healthz`)).status < 500 ? true : undefined;
        } catch {
          return undefined;
        }
      },
      90_000,
    );
  }

  beforeAll(async () => {
    lockRun();
    locked = true;
    work = mkdtempSync('/tmp/cbth-');
    const net = createNetwork(['A', 'B', 'C']);
    hosts = Object.fromEntries(
      net.map((n) => {
        const dataDir = join(work, n.name);
        mkdirSync(dataDir);
        return [n.name, { ...n, dataDir }];
      }),
    ) as Record<'A' | 'B' | 'C', Host>;

    // Postgres of its own, listening on the bridge address only (run as the postgres user).
    pgDir = mkdtempSync('/tmp/cbth-pg-');
    execFileSync('chown', ['postgres:postgres', pgDir]);
    const asPostgres = (cmd: string, args: string[]) =>
      execFileSync('runuser', ['-u', 'postgres', '--', join(pgBin, cmd), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    asPostgres('initdb', ['-D', join(pgDir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    // The hosts connect from their own addresses on the bridge's network.
    appendFileSync(join(pgDir, 'data', 'pg_hba.conf'), 'host all all 10.231.0.0/24 trust\n');
    pgStarted = true;
    asPostgres('pg_ctl', [
      '-D',
      join(pgDir, 'data'),
      '-l',
      join(pgDir, 'log'),
      '-w',
      '-o',
      `-c listen_addresses=${BRIDGE_ADDRESS} -p ${PG_PORT} -k ${pgDir} -c fsync=off -c max_connections=200`,
      'start',
    ]);
    db = new pg.Client({ connectionString: `postgres://postgres@${BRIDGE_ADDRESS}:${PG_PORT}/postgres` });
    await db.connect();

    // S3 on the bridge address.
    moto = spawnIn(null, 'moto_server', ['-H', BRIDGE_ADDRESS, '-p', String(S3_PORT)], { PATH: process.env.PATH ?? '' }, work);
    await until('moto_server', async () => (await fetch(`http://${BRIDGE_ADDRESS}:${S3_PORT}/`).catch(() => null)) ?? undefined, 30_000);

    // A first (it migrates the database), then the others at once.
    hosts.A.api = start(hosts.A, 'api');
    await ready(hosts.A, hosts.A.api, API_PORT);
    hosts.B.api = start(hosts.B, 'api');
    hosts.C.api = start(hosts.C, 'api');
    // B's worker starts later (its backups first wait for it); C's runs two jobs at a time.
    hosts.C.worker = start(hosts.C, 'worker', { BACKUP_MAX_OPERATIONS: '2' });
    await Promise.all([
      ready(hosts.B, hosts.B.api, API_PORT),
      ready(hosts.C, hosts.C.api, API_PORT),
      ready(hosts.C, hosts.C.worker, METRICS_PORT),
    ]);
  });

  afterAll(async () => {
    if (!locked) return; // another run holds the machine's names and addresses: leave them alone
    for (const p of everyProcess()) if (alive(p)) p.child.kill('SIGTERM');
    await Promise.race([Promise.all(everyProcess().map((p) => p.exited)), sleep(15_000)]);
    for (const p of everyProcess()) if (alive(p)) p.child.kill('SIGKILL');
    if (alive(moto)) moto?.child.kill('SIGKILL');
    await db?.end().catch(() => {});
    if (pgStarted) {
      try {
        execFileSync('runuser', ['-u', 'postgres', '--', join(pgBin, 'pg_ctl'), '-D', join(pgDir, 'data'), '-m', 'immediate', 'stop'], {
          stdio: 'ignore',
        });
      } catch {}
    }
    removeNetwork(['A', 'B', 'C']);
    if (work) rmSync(work, { recursive: true, force: true });
    if (pgDir) rmSync(pgDir, { recursive: true, force: true });
    unlockRun();
  });

  async function api(h: Host, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const r = await fetch(`http://${h.address}:${API_PORT}/v3/${PROJECT}${path}`, {
      method,
      headers: { 'x-auth-token': `u:${PROJECT}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : undefined };
  }

  async function put(h: Host, volumeId: string, offset: number, data: Buffer): Promise<void> {
    const headers: Record<string, string> = { 'x-auth-token': `u:${PROJECT}`, 'content-type': 'application/octet-stream' };
    if (offset > 0) headers['content-range'] = `bytes ${offset}-${offset + data.length - 1}/*`;
    const r = await fetch(`http://${h.address}:${API_PORT}/v3/${PROJECT}/volumes/${volumeId}/data`, { method: 'PUT', headers, body: data });
    expect(r.status, await r.text()).toBeLessThan(300);
  }

  /** A 1 GiB volume on `h` with `bytes` of random data at 0 and 1 MiB at 512 MiB; returns the sha256 of the data at 0. */
  async function volumeWithData(h: Host, name: string, bytes: number): Promise<{ id: string; bytes: number; headSha256: string }> {
    const r = await api(h, 'POST', '/volumes', { volume: { size: 1, name } });
    expect(r.status).toBe(202);
    const id = r.json.volume.id as string;
    await until(`${name} available`, async () =>
      (await api(h, 'GET', `/volumes/${id}`)).json.volume.status === 'available' ? true : undefined,
    );
    const head = randomBytes(bytes);
    await put(h, id, 0, head);
    await put(h, id, TAIL_OFFSET, randomBytes(MiB));
    return { id, bytes, headSha256: createHash('sha256').update(head).digest('hex') };
  }

  /** sha256 of the first `bytes` of a volume, read through its host's data extension (a Range read). */
  async function headSha256(h: Host, id: string, bytes: number): Promise<string> {
    const r = await fetch(`http://${h.address}:${API_PORT}/v3/${PROJECT}/volumes/${id}/data`, {
      headers: { 'x-auth-token': `u:${PROJECT}`, range: `bytes=0-${bytes - 1}` },
    });
    expect(r.status).toBe(206);
    const hash = createHash('sha256');
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
    return hash.digest('hex');
  }

  /** True when two volume files of host `h` hold the same bytes, all 1 GiB of them (cmp, on the host's DATA_DIR). */
  function sameBytes(h: Host, a: string, b: string): boolean {
    try {
      execFileSync('cmp', ['-s', join(h.dataDir, 'volumes', `volume-${a}`), join(h.dataDir, 'volumes', `volume-${b}`)]);
      return true;
    } catch {
      return false;
    }
  }

  const backup = async (id: string) => (await api(hosts.A, 'GET', `/backups/${id}`)).json.backup;
  const progress = async (id: string) => (await api(hosts.A, 'GET', `/backups/${id}/progress`)).json.progress;

  async function startBackup(h: Host, volumeId: string, name: string, incremental = false): Promise<string> {
    const r = await api(h, 'POST', '/backups', { backup: { volume_id: volumeId, name, incremental } });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    return r.json.backup.id as string;
  }

  async function settledBackup(id: string, ms = 120_000): Promise<any> {
    return until(
      `backup ${id} settled`,
      async () => {
        const b = await backup(id);
        return b.status === 'creating' || b.status === 'restoring' || b.status === 'deleting' ? undefined : b;
      },
      ms,
    );
  }

  /** Worker log lines (JSON) of one process that name a job. */
  const jobLines = (p: HostProcess | undefined, jobId: number) =>
    (p?.output() ?? '')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .filter((l) => Number(l.job_id) === Number(jobId));

  const jobOf = async (kind: string, resourceId: string) =>
    (await db!.query('SELECT * FROM jobs WHERE kind = $1 AND resource_id = $2 ORDER BY id DESC LIMIT 1', [kind, resourceId])).rows[0];

  async function uploadedBytes(h: Host): Promise<number> {
    const text = await (await fetch(`http://${h.address}:${METRICS_PORT}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('backup_engine_bytes_uploaded_total'));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  it('B finishes, C waits with a reason and resumes when its worker is back, store-only jobs move to B, restores are byte-identical', async () => {
    const { A, B, C } = hosts;
    const t = (since: number) => Math.round(performance.now() - since);
    const t0 = performance.now();
    const mark = (what: string) => console.log(`[three-hosts +${(t(t0) / 1000).toFixed(1)} s] ${what}`);

    // Volumes on B and on C (created by each host's API, so their files are in its DATA_DIR).
    const [b1, b2, c0, c1, c2] = await Promise.all([
      volumeWithData(B, 'b1', 64 * MiB),
      volumeWithData(B, 'b2', 64 * MiB),
      volumeWithData(C, 'c0', 96 * MiB),
      volumeWithData(C, 'c1', 192 * MiB),
      volumeWithData(C, 'c2', 32 * MiB),
    ]);
    for (const [v, h] of [
      [b1, 'B'],
      [c1, 'C'],
    ] as const) {
      expect((await api(A, 'GET', `/volumes/${v.id}`)).json.volume['os-vol-host-attr:host']).toBe(`${h}@file#file`);
    }

    mark('volumes written');
    // A backup of c0, made on C: the target of the store-only jobs (verify, then delete).
    const c0full = await startBackup(C, c0.id, 'c0-full');
    expect((await settledBackup(c0full)).status).toBe('available');

    mark('c0 backups done');
    // B has no worker yet: its backups wait for host B, with the reason in the progress extension.
    const [bk1, bk2] = [await startBackup(B, b1.id, 'b1'), await startBackup(B, b2.id, 'b2')];
    const noB = await progress(bk1);
    expect(noB).toMatchObject({ status: 'creating', phase: 'waiting' });
    expect(noB.waiting_reason).toMatch(/^waiting for host B: no worker of it has been seen/);

    // B's worker starts and takes its backups. On C a verify of c0's backup (store-only) and c1's
    // backup run on C's worker (two at a time); c2's waits its turn.
    B.worker = start(B, 'worker', { BACKUP_MAX_OPERATIONS: '2' });
    await ready(B, B.worker, METRICS_PORT);
    expect((await api(A, 'POST', `/backups/${c0full}/action`, { 'os-verify': {} })).status).toBe(202);
    const ck1 = await startBackup(C, c1.id, 'c1');
    const ck2 = await startBackup(C, c2.id, 'c2');
    await until('c1 uploading on C', async () => ((await progress(ck1)).bytes_stored > 0 ? true : undefined), 60_000);

    mark('c1 uploading');
    // C's worker dies in the middle.
    const atKill = await progress(ck1);
    const verifyJob = await jobOf('verify', c0full);
    const verifyRunningOnC = verifyJob.status === 'running' && String(verifyJob.lease_owner).startsWith('C:');
    const bAtKill = [(await backup(bk1)).status, (await backup(bk2)).status];
    C.worker!.child.kill('SIGKILL');
    await C.worker!.exited;
    const killedAt = performance.now();
    expect(atKill.status).toBe('creating');
    expect(atKill.bytes_stored).toBeLessThan(atKill.bytes_total);

    // Store-only work on C's backup runs on B: B takes over the verify C was running, or runs a new
    // one when C had finished it before it died; then a delete of that backup.
    if (!verifyRunningOnC) {
      await until('first verify settled', async () =>
        ['done', 'failed'].includes((await jobOf('verify', c0full)).status) ? true : undefined,
      );
      expect((await api(A, 'POST', `/backups/${c0full}/action`, { 'os-verify': {} })).status).toBe(202);
    }

    mark('C killed');
    // C's backups wait with a visible reason once C's worker heartbeat has expired (one lease).
    await until('c1 waiting for host C', async () => ((await progress(ck1)).phase === 'waiting' ? true : undefined), 30_000);
    const detectMs = t(killedAt);
    for (const id of [ck1, ck2]) {
      const p = await progress(id);
      expect(p).toMatchObject({ status: 'creating', phase: 'waiting' });
      expect(p.waiting_reason).toMatch(/^waiting for host C: its last worker was seen at /);
    }

    mark('C waiting');
    // B's backups finish; the verify (taken over from C if it was running there) and the delete run on B.
    for (const id of [bk1, bk2]) expect((await settledBackup(id)).status).toBe('available');
    const bDoneMs = t(killedAt);
    const verified = await until('verify done', async () => {
      const j = await jobOf('verify', c0full);
      return j.status === 'done' || j.status === 'failed' ? j : undefined;
    });
    const verifyMovedMs = t(killedAt);
    expect(verified.status).toBe('done');
    expect((await backup(c0full)).status).toBe('available');
    expect((await progress(c0full)).verify_result).toBe('ok');
    const verifyOnB = jobLines(B.worker, verified.id).filter((l) => l.msg === 'job started');
    expect(verifyOnB.length).toBe(1);
    if (verifyRunningOnC) expect(verifyOnB[0].takeover).toBe(true);
    const deleteAskedAt = performance.now();
    expect((await api(A, 'DELETE', `/backups/${c0full}`)).status).toBe(202);
    await until('c0 backup deleted', async () => ((await api(A, 'GET', `/backups/${c0full}`)).status === 404 ? true : undefined));
    const deleteMovedMs = t(deleteAskedAt);
    const deleteJob = await jobOf('delete_backup', c0full);
    expect(jobLines(B.worker, deleteJob.id).map((l) => l.msg)).toContain('job finished');

    mark('B done, store-only jobs done on B');
    // C's jobs never turn to error while C is away (a few leases later they still wait).
    await sleep((LEASE_SECONDS + 1) * 1000);
    for (const id of [ck1, ck2]) expect(await progress(id)).toMatchObject({ status: 'creating', phase: 'waiting' });
    const c1JobBefore = await jobOf('backup', ck1);
    expect(jobLines(B.worker, c1JobBefore.id)).toEqual([]);

    mark('still waiting');
    // C's worker is back: its jobs run there.
    const restartedAt = performance.now();
    C.worker = start(C, 'worker', { BACKUP_MAX_OPERATIONS: '2' });
    await ready(C, C.worker, METRICS_PORT);
    const settled = [await settledBackup(ck1), await settledBackup(ck2)];
    const resumeMs = t(restartedAt);
    // NOTE: until backups resume from their last stored object (issue 19, "Resume, never reset"),
    // one interrupted mid-way is settled by Cinder's restart rule when C's worker takes it back; a
    // new backup of the volume is then the full re-run. Either way it ran on C only after C came
    // back, and never errored while C was away. A backup that had not started runs in full.
    const modes: string[] = [];
    const finalC: string[] = [];
    for (const [i, s] of settled.entries()) {
      if (s.status === 'available') {
        modes.push(s.id === ck1 ? 'resumed or ran' : 'ran');
        finalC.push(s.id);
        continue;
      }
      expect(s).toMatchObject({ status: 'error', fail_reason: 'incomplete backup reset on manager restart' });
      modes.push('reset, re-run in full');
      const again = await startBackup(C, [c1, c2][i]!.id, `${s.name}-rerun`);
      expect((await settledBackup(again)).status).toBe('available');
      finalC.push(again);
    }
    const [c1Backup, c2Backup] = finalC as [string, string];
    const cDoneMs = t(restartedAt);
    const reuploaded = await uploadedBytes(C);
    let fullRerun = 0;
    for (const id of finalC) {
      const chain = (await api(A, 'GET', `/backups/${id}/chain`)).json.chain;
      fullRerun += Number(chain.backups.find((m: { id: string }) => m.id === id).stored_bytes);
    }
    for (const id of [ck1, ck2, ...finalC]) {
      const jobs = (await db!.query('SELECT id FROM jobs WHERE kind = $1 AND resource_id = $2', ['backup', id])).rows;
      for (const j of jobs) expect(jobLines(B.worker, j.id)).toEqual([]);
    }

    const figures = {
      c1_after_restart: modes[0],
      c2_after_restart: modes[1],
      wait_reason_visible_after_kill_ms: detectMs,
      b_backups_at_kill: bAtKill,
      b_backups_done_after_kill_ms: bDoneMs,
      verify_finished_on_b_after_kill_ms: verifyMovedMs,
      verify_taken_over_from_c: verifyRunningOnC,
      delete_on_b_request_to_deleted_ms: deleteMovedMs,
      c_jobs_settled_after_restart_ms: resumeMs,
      c_backups_available_after_restart_ms: cDoneMs,
      c1_bytes_stored_at_kill: atKill.bytes_stored,
      c1_bytes_total: atKill.bytes_total,
      bytes_uploaded_by_c_after_restart: reuploaded,
      bytes_of_a_full_rerun_of_c_work: fullRerun,
    };
    console.log(`three-host figures: ${JSON.stringify(figures, null, 2)}`);
    mark('C backups available');
    // Every backup restores byte-identically, into a new volume on the host that asks.
    const restores = [
      { backupId: bk1, host: B, source: b1 },
      { backupId: bk2, host: B, source: b2 },
      { backupId: c1Backup, host: C, source: c1 },
      { backupId: c2Backup, host: C, source: c2 },
    ];
    const targets: Array<(typeof restores)[number] & { volumeId: string }> = [];
    for (const r of restores) {
      const res = await api(r.host, 'POST', `/backups/${r.backupId}/restore`, { restore: {} });
      expect(res.status, JSON.stringify(res.json)).toBe(202);
      targets.push({ ...r, volumeId: res.json.restore.volume_id as string });
    }
    const compare = async (r: (typeof targets)[number]) => {
      await until(
        `restore of ${r.backupId}`,
        async () => {
          const v = (await api(r.host, 'GET', `/volumes/${r.volumeId}`)).json.volume;
          if (v.status.startsWith('error')) throw new Error(`restore into ${r.volumeId}: ${v.status}`);
          return v.status === 'available' ? v : undefined;
        },
        300_000,
      ).catch(async (err) => {
        throw new Error(`${err.message} on ${r.host.name}: ${JSON.stringify(await progress(r.backupId))}`);
      });
      // The data read back through the API, then every byte of the file against its source volume.
      expect(await headSha256(r.host, r.volumeId, r.source.bytes), `restore of ${r.backupId} on ${r.host.name}`).toBe(r.source.headSha256);
      expect(sameBytes(r.host, r.source.id, r.volumeId), `restore of ${r.backupId} on ${r.host.name}: all 1 GiB`).toBe(true);
    };
    await Promise.all(targets.map(compare));

    mark('restores compared');
  });
});

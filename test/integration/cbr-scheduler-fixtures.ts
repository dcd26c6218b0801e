import { randomBytes, randomUUID } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import pino from 'pino';
import { bindPolicy, insertPolicy } from '../../src/db/cbr-policies-repository.js';
import { addVaultResources, insertVault } from '../../src/db/cbr-vaults-repository.js';
import type { Database } from '../../src/db/schema.js';
import type { Kysely } from 'kysely';
import type { Clock, ManualClock } from '../../src/domain/cbr/schedule/clock.js';
import { schedulerTick, type SchedulerDeps, type TickReport } from '../../src/domain/cbr/schedule/scheduler.js';
import type { OperationDefinition } from '../../src/domain/cbr/retention/rules.js';
import { makeVolume, type BackupTestEnv } from './backups-fixtures.js';

export const SMALL = 1024 * 1024;

/** A 1 GB (sparse) volume whose first `bytes` are random data. */
export async function smallVolume(env: BackupTestEnv, project: string, bytes = SMALL): Promise<string> {
  const id = await makeVolume(env, project);
  await scribble(env, id, 0, bytes);
  return id;
}

/** Overwrites `len` bytes at `offset` with random data; returns the volume's whole content afterwards. */
export async function scribble(env: BackupTestEnv, volumeId: string, offset: number, len: number): Promise<Buffer> {
  const fh = await open(env.deps.volumes.volumePath(volumeId), 'r+');
  try {
    await fh.write(randomBytes(len), 0, len, offset);
  } finally {
    await fh.close();
  }
  return readFile(env.deps.volumes.volumePath(volumeId));
}

export async function makeVault(db: Kysely<Database>, project: string, volumeIds: string[]): Promise<string> {
  const id = randomUUID();
  await insertVault(db, {
    id,
    project_id: project,
    user_id: `u${project.slice(0, 7)}`,
    name: `vault-${id.slice(0, 4)}`,
    description: null,
    size_gb: 1000,
    backup_name_prefix: null,
    extra: '{}',
  });
  await addVaultResources(
    db,
    id,
    volumeIds.map((volumeId) => ({ volumeId, name: null })),
  );
  return id;
}

/** A policy created at `createdAt` (the INTERVAL anchor), bound to `vaultIds`. */
export async function makePolicy(
  db: Kysely<Database>,
  project: string,
  patterns: string[],
  def: OperationDefinition,
  createdAt: Date,
  vaultIds: string[],
): Promise<string> {
  const id = randomUUID();
  await insertPolicy(db, {
    id,
    project_id: project,
    name: 'p',
    trigger_id: randomUUID(),
    patterns: JSON.stringify(patterns),
    operation_definition: JSON.stringify(def),
    created_at: createdAt,
  });
  for (const v of vaultIds) await bindPolicy(db, v, id);
  return id;
}

export function schedulerDeps(
  env: BackupTestEnv,
  clock: Clock,
  db: Kysely<Database> = env.t.db,
  owner = `test:${randomUUID()}`,
): SchedulerDeps {
  return {
    db,
    config: env.config,
    store: env.deps.store,
    clock,
    log: pino({ level: 'silent' }),
    owner,
    windowMs: 120_000,
    wakeJobs: () => env.worker?.wake(),
  };
}

/** Waits (bounded) until no backup is being made or deleted. */
export async function settle(db: Kysely<Database>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = await db
      .selectFrom('backups')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('deleted', '=', false)
      .where('status', 'in', ['creating', 'deleting', 'restoring'])
      .executeTakeFirstOrThrow();
    if (Number(r.n) === 0) return;
    await new Promise((res) => setTimeout(res, 40));
  }
  throw new Error('backups did not settle');
}

export interface Fired {
  policyId: string;
  vaultId: string;
  triggerAt: string;
  firedAt: string;
}

/**
 * Moves the fake clock through [clock, until) like a worker that ticks every `stepMs`: it jumps to 100 s
 * before each upcoming instant of `upcoming` (an independent, hand-written list), then ticks through it.
 * After every tick it lets the job worker finish, and ticks once more at the same instant (retention).
 * `before(t)` runs before the first tick that may fire instant t.
 */
export async function drive(
  deps: SchedulerDeps[],
  clock: ManualClock,
  upcoming: Date[],
  opts: { stepMs?: number; before?: (t: Date) => Promise<void> } = {},
): Promise<{ fired: Fired[]; reports: TickReport[] }> {
  const stepMs = opts.stepMs ?? 45_000;
  const fired: Fired[] = [];
  const reports: TickReport[] = [];
  const db = deps[0]!.db;
  for (const t of [...upcoming].sort((a, b) => a.getTime() - b.getTime())) {
    const start = t.getTime() - 100_000 + Math.floor(Math.random() * 10_000);
    if (clock.now().getTime() < start) clock.set(new Date(start));
    await opts.before?.(t);
    while (clock.now().getTime() <= t.getTime() + stepMs) {
      const rs = await Promise.all(deps.map((d) => schedulerTick(d)));
      for (const r of rs) {
        reports.push(r);
        for (const f of r.fired)
          fired.push({
            policyId: f.policyId,
            vaultId: f.vaultId,
            triggerAt: f.triggerAt.toISOString(),
            firedAt: clock.now().toISOString(),
          });
      }
      await settle(db);
      reports.push(...(await Promise.all(deps.map((d) => schedulerTick(d)))));
      await settle(db);
      clock.advance(stepMs);
    }
  }
  return { fired, reports };
}

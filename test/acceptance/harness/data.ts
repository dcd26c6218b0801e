import { createHash, randomBytes } from 'node:crypto';

const MiB = 1024 * 1024;
/**
 * The bytes each workflow writes: three backup objects' worth at the suite's BACKUP_OBJECT_SIZE
 * (16 MiB, see service.ts), with the zero run crossing the first object boundary.
 */
export const PATTERN_BYTES = 40 * MiB;

/** Known bytes for a volume: seeded-random, with a zero run so sparse handling is exercised. */
export function testPattern(bytes: number): Buffer {
  const buf = randomBytes(bytes);
  buf.fill(0, Math.floor(bytes / 4), Math.floor(bytes / 2));
  return buf;
}

export function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/**
 * The volume data extension: PUT /v3/{project}/volumes/{id}/data writes `bytes` at offset 0.
 * `token` is the X-Auth-Token (noauth `user:project`, or a Keystone token).
 */
export async function putVolumeData(baseUrl: string, project: string, volumeId: string, token: string, bytes: Buffer): Promise<void> {
  const res = await fetch(`${baseUrl}/v3/${project}/volumes/${volumeId}/data`, {
    method: 'PUT',
    headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
    body: bytes,
    signal: AbortSignal.timeout(120_000),
  });
  if (res.status >= 300) throw new Error(`PUT data of ${volumeId}: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

/** GET /v3/{project}/volumes/{id}/data with a Range of the first `length` bytes; returns their sha256. */
export async function volumeDataSha256(baseUrl: string, project: string, volumeId: string, token: string, length: number): Promise<string> {
  const res = await fetch(`${baseUrl}/v3/${project}/volumes/${volumeId}/data`, {
    headers: { 'x-auth-token': token, range: `bytes=0-${length - 1}` },
    signal: AbortSignal.timeout(120_000),
  });
  if (res.status !== 206 && res.status !== 200) throw new Error(`GET data of ${volumeId}: ${res.status} ${await res.text()}`);
  const body = Buffer.from(await res.arrayBuffer());
  return sha256(res.status === 200 ? body.subarray(0, length) : body);
}

/** The collection a resource lives in, for apiStatus. */
export type ResourceKind = 'volumes' | 'snapshots' | 'backups';

/**
 * The resource's status straight from the API (GET /v3/{project}/{kind}/{id}), or 'gone' on
 * 404: the cheap read between two client reads while waiting (a client run costs a Python
 * start-up, 1-5 s on two cores; this costs milliseconds).
 */
export async function apiStatus(baseUrl: string, project: string, kind: ResourceKind, id: string, token: string): Promise<string> {
  const res = await fetch(`${baseUrl}/v3/${project}/${kind}/${id}`, {
    headers: { 'x-auth-token': token },
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status === 404) {
    await res.body?.cancel();
    return 'gone';
  }
  if (res.status !== 200) throw new Error(`GET ${kind}/${id}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as Record<string, { status?: string }>;
  return String(Object.values(body)[0]?.status);
}

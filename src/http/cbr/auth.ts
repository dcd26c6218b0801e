import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CbrAccessKey } from '../../config.js';
import type { RequestContext } from '../../domain/common/context.js';
import { DomainError } from '../../domain/common/errors.js';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import { HttpFault } from '../faults.js';
import {
  type SdkAuthorization,
  canonicalRequest,
  parseSdkAuthorization,
  parseSdkDate,
  payloadHash,
  sameSignature,
  signCanonical,
} from './signature.js';

export interface CbrAuthOptions {
  /** The Cinder listener's token strategy (noauth or Keystone), used for X-Auth-Token. */
  strategy: AuthStrategy;
  /** CBR_ACCESS_KEYS. */
  keys: readonly CbrAccessKey[];
  /** Largest body read to check its hash (the listener's body limit). */
  bodyLimit: number;
  /** Epoch ms; injectable so tests can move the clock against X-Sdk-Date. */
  now?: () => number;
}

/** An X-Sdk-Date further than this from our clock is refused (the gateway's window). */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

// The API gateway's codes: 0301 a credential it cannot verify, 0302 a caller not allowed here.
const IAM_FAIL = 'Incorrect IAM authentication information';
const unauthorized = (why: string) => new HttpFault(401, 'APIGW.0301', `${IAM_FAIL}: ${why}`);
const forbidden = (why: string) => new HttpFault(403, 'APIGW.0302', why);

function header(req: FastifyRequest, name: string): string | undefined {
  const raw = req.headers[name];
  const v = Array.isArray(raw) ? raw.join(', ') : raw;
  // Node reads header bytes as latin1; the SDK signed their UTF-8 text.
  return v === undefined ? undefined : Buffer.from(v, 'latin1').toString('utf8');
}

interface PendingSignature {
  key: CbrAccessKey;
  auth: SdkAuthorization;
  sdkDate: string;
}

async function readBody(payload: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > limit) throw Object.assign(new Error('Request body is too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function signedContext(req: FastifyRequest, key: CbrAccessKey): RequestContext {
  return { requestId: req.id, userId: key.userId ?? key.accessKey, projectId: key.projectId, roles: ['member', 'reader'], isAdmin: false };
}

/**
 * Authenticates every request of the CBR listener, as the API gateway in front of real CBR does:
 * `Authorization: SDK-HMAC-SHA256 ...` (the Huawei SDKs; verified against CBR_ACCESS_KEYS,
 * body included, X-Sdk-Date within 15 minutes), or `X-Auth-Token` through the same strategy as
 * the Cinder listener. Failures are 401 APIGW.0301; a project in the path (or X-Project-Id)
 * other than the caller's is 403. The signature needs the raw body, so a signed request is
 * finished in preParsing, before the body is parsed.
 */
export function registerCbrAuth(app: FastifyInstance, options: CbrAuthOptions): void {
  const now = options.now ?? Date.now;
  const byAccessKey = new Map(options.keys.map((k) => [k.accessKey, k]));
  const pending = new WeakMap<FastifyRequest, PendingSignature>();
  if (!app.hasRequestDecorator('ctx')) app.decorateRequest('ctx', null as unknown as RequestContext);

  const checkProject = (req: FastifyRequest, projectId: string) => {
    const urlProject = (req.params as Record<string, string | undefined>)?.project_id;
    if (urlProject !== undefined && urlProject !== projectId) {
      throw forbidden(`The credential of project ${projectId} cannot access project ${urlProject}.`);
    }
  };

  app.addHook('onRequest', async (req) => {
    const authorization = header(req, 'authorization');
    if (authorization?.startsWith('SDK-HMAC-')) {
      const auth = parseSdkAuthorization(authorization);
      if (!auth) throw unauthorized('malformed SDK-HMAC-SHA256 Authorization header');
      const key = byAccessKey.get(auth.accessKey);
      if (!key) throw unauthorized('verify aksk signature fail (unknown access key)');
      for (const required of ['host', 'x-sdk-date']) {
        if (!auth.signedHeaders.includes(required)) throw unauthorized(`verify aksk signature fail (${required} is not signed)`);
      }
      const sdkDate = header(req, 'x-sdk-date') ?? '';
      const t = parseSdkDate(sdkDate);
      if (t === null) throw unauthorized('verify aksk signature fail (X-Sdk-Date is not YYYYMMDDTHHMMSSZ)');
      if (Math.abs(now() - t) > MAX_CLOCK_SKEW_MS)
        throw unauthorized('verify aksk signature fail (X-Sdk-Date is more than 15 minutes off)');
      const xProject = header(req, 'x-project-id');
      if (xProject !== undefined && xProject.trim() !== key.projectId) {
        throw forbidden(`The credential of project ${key.projectId} cannot act for project ${xProject.trim()}.`);
      }
      checkProject(req, key.projectId);
      pending.set(req, { key, auth, sdkDate });
      return;
    }
    if (!header(req, 'x-auth-token')) throw unauthorized('the request carries neither X-Auth-Token nor an SDK-HMAC-SHA256 signature');
    try {
      req.ctx = await options.strategy.authenticate(req.headers, req.id);
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'unauthorized') throw unauthorized(`decrypt token fail (${err.message})`);
      throw err;
    }
    checkProject(req, req.ctx.projectId);
  });

  app.addHook('preParsing', async (req, _reply, payload) => {
    const sig = pending.get(req);
    if (!sig) return payload;
    pending.delete(req);
    const body = await readBody(payload, options.bodyLimit);
    const actual = payloadHash(body);
    let hash = actual;
    const declared = header(req, 'x-sdk-content-sha256');
    if (declared !== undefined && body.length > 0 && sig.auth.signedHeaders.includes('x-sdk-content-sha256')) {
      // The SDK sends UNSIGNED-PAYLOAD only for non-JSON bodies; a JSON body is always hashed.
      const json = (header(req, 'content-type') ?? '').startsWith('application/json');
      if (declared === 'UNSIGNED-PAYLOAD' ? json : declared !== actual) throw unauthorized('verify aksk signature fail (body hash)');
      hash = declared;
    }
    const headers: Record<string, string | undefined> = {};
    for (const name of sig.auth.signedHeaders) headers[name] = header(req, name);
    const canonical = canonicalRequest({ method: req.method, url: req.url, headers, payloadHash: hash }, sig.auth.signedHeaders);
    if (canonical === null) throw unauthorized('verify aksk signature fail (a signed header is missing)');
    if (!sameSignature(signCanonical(canonical, sig.sdkDate, sig.key.secretKey), sig.auth.signature)) {
      throw unauthorized('verify aksk signature fail');
    }
    req.ctx = signedContext(req, sig.key);
    const replay = Readable.from([body], { objectMode: false }) as Readable & { receivedEncodedLength?: number };
    replay.receivedEncodedLength = body.length;
    return replay;
  });
}

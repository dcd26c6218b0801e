import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The official Huawei Cloud Python SDK (huaweicloudsdkcore + huaweicloudsdkcbr), used unmodified
 * from the shared clients folder beside the repository (../shared in CI; found by walking up, so
 * git worktrees find it too) with Debian's python3 and its packages (.ci/run installs them).
 */
export function sdkPath(): string {
  if (process.env.HUAWEICLOUD_SDK_PATH) return process.env.HUAWEICLOUD_SDK_PATH;
  let dir = resolve(import.meta.dirname, '../..');
  for (;;) {
    const candidate = join(dir, 'shared', 'clients', 'huaweicloud-sdk-python');
    if (existsSync(join(candidate, 'huaweicloudsdkcore'))) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('shared/clients/huaweicloud-sdk-python not found above the repository');
    dir = up;
  }
}

/**
 * Runs a Python script with the SDK on the path, without blocking the event loop (the server
 * under test usually runs in this process); resolves to its stdout.
 */
export function runPythonAsync(script: string, input = ''): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      '/usr/bin/python3',
      ['-c', script],
      { env: { ...process.env, PYTHONPATH: sdkPath() }, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolvePromise(stdout)),
    );
    child.stdin!.end(input);
  });
}

/** Runs a Python script with the SDK on the path, synchronously (no server in this process may be involved). */
export function runPython(script: string, input = ''): string {
  return execFileSync('/usr/bin/python3', ['-c', script], {
    input,
    env: { ...process.env, PYTHONPATH: sdkPath() },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

export interface SdkSignInput {
  method: string;
  /** host:port as the Host header carries it. */
  host: string;
  path: string;
  query?: Array<[string, string | string[] | boolean]>;
  /** Headers before signing; defaults to what CbrClient sends (Content-Type, User-Agent, X-Project-Id). */
  headers: Record<string, string>;
  body?: string;
  ak: string;
  sk: string;
}

export interface SdkSigned {
  /** Path and query as the SDK puts them on the wire. */
  uri: string;
  headers: Record<string, string>;
}

const SIGN = `
import json, sys
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkcore.sdk_request import SdkRequest
class Creds:
    def __init__(self, ak, sk):
        self.ak, self.sk = ak, sk
out = []
for r in json.load(sys.stdin):
    req = SdkRequest(method=r['method'], schema='http', host=r['host'], resource_path=r['path'],
                     query_params=[tuple(q) for q in r.get('query') or []], header_params=dict(r['headers']),
                     body=(r.get('body') or ''))
    signed = Signer(Creds(r['ak'], r['sk'])).sign(req)
    out.append({'uri': signed.uri, 'headers': dict(signed.header_params)})
print(json.dumps(out))
`;

/** Signs requests with the SDK's own Signer (huaweicloudsdkcore/signer/signer.py). */
export function sdkSign(requests: SdkSignInput[]): SdkSigned[] {
  return JSON.parse(runPython(SIGN, JSON.stringify(requests))) as SdkSigned[];
}

/** The headers CbrClient adds before signing (checked against a logging server). */
export function sdkHeaders(projectId: string): Record<string, string> {
  return { 'Content-Type': 'application/json', 'User-Agent': 'huaweicloud-usdk-python/3.0', 'X-Project-Id': projectId };
}

export interface SdkCallResult {
  status: number;
  /** The response body exactly as received (response.raw_content), for JSON-type checks. */
  raw?: string;
  error_code?: string;
  error_msg?: string;
  request_id?: string;
}

const CALL = `
import json, sys
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
import huaweicloudsdkcbr.v1 as cbr
a = json.load(sys.stdin)
client = (cbr.CbrClient.new_builder()
          .with_credentials(BasicCredentials(a['ak'], a['sk'], a['project']))
          .with_endpoints([a['endpoint']])
          .build())
def build(spec):
    if isinstance(spec, dict) and '__model__' in spec:
        cls = getattr(cbr, spec['__model__'])
        return cls(**{k: build(v) for k, v in spec.items() if k != '__model__'})
    if isinstance(spec, list):
        return [build(v) for v in spec]
    return spec
try:
    resp = getattr(client, a['method'])(build(a['request']))
    raw = resp.raw_content
    print(json.dumps({'status': resp.status_code, 'raw': raw.decode('utf-8') if isinstance(raw, bytes) else raw}))
except ClientRequestException as e:
    print(json.dumps({'status': e.status_code, 'error_code': e.error_code, 'error_msg': e.error_msg, 'request_id': e.request_id}))
`;

/**
 * One call through CbrClient (`method`, e.g. 'list_vault'), with `request` a model tree written
 * as { __model__: 'ListVaultRequest', ...kwargs } (nested models the same way). A 4xx comes back
 * as the SDK's ClientRequestException fields.
 */
export async function sdkCall(
  endpoint: string,
  key: { ak: string; sk: string; project: string },
  method: string,
  request: Record<string, unknown>,
): Promise<SdkCallResult> {
  return JSON.parse(await runPythonAsync(CALL, JSON.stringify({ ...key, endpoint, method, request }))) as SdkCallResult;
}

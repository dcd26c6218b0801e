import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTroveEnv, tok, type TroveEnv } from './trove-fixture.js';

const P = 'projinput';

describe('Trove instance create: bad input gets Trove error bodies, never a 500', () => {
  let e: TroveEnv;
  beforeAll(async () => {
    e = await createTroveEnv({ TROVE_QUOTA_INSTANCES: '0' });
  });
  afterAll(async () => e?.close());

  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    e.t.app.inject({
      method: 'POST',
      url: `/v1.0/${P}/instances`,
      headers: { ...tok(P), 'content-type': 'application/json', ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  const ok = { name: 'pg', flavorRef: 1, volume: { size: 1 } };

  it.each([
    ['an empty body', '', 400, "Validation error: 'instance' is a required property"],
    ['malformed JSON', '{"instance":', 400, 'Malformed request body'],
    ['no name', { instance: { flavorRef: 1 } }, 400, "Validation error: instance 'name' is a required property"],
    [
      'an empty name',
      { instance: { ...ok, name: '' } },
      400,
      "Validation error: instance['name'] '' is too short; instance['name'] '' does not match '^.*[0-9a-zA-Z]+.*$'",
    ],
    ['a name of a number', { instance: { ...ok, name: 5 } }, 400, "Validation error: instance['name'] 5 is not of type 'string'"],
    ['no volume', { instance: { name: 'pg', flavorRef: 1 } }, 400, 'Volume size was not specified.'],
    ['volume size 0', { instance: { ...ok, volume: { size: 0 } } }, 400, null],
    ['an unknown flavor', { instance: { ...ok, flavorRef: '99' } }, 400, 'Resource 99 cannot be found.'],
    ['an unknown datastore', { instance: { ...ok, datastore: { type: 'mysql' } } }, 404, "Datastore 'mysql' cannot be found."],
    [
      'an unknown datastore version',
      { instance: { ...ok, datastore: { type: 'postgresql', version: '9.6' } } },
      404,
      "Datastore version '9.6' cannot be found.",
    ],
    ['a volume above TROVE_MAX_VOLUME_SIZE', { instance: { ...ok, volume: { size: 11 } } }, 413, null],
    ['replica_of', { instance: { ...ok, replica_of: 'x' } }, 501, null],
    ['a reserved database name', { instance: { ...ok, databases: [{ name: 'postgres' }] } }, 400, "Database name 'postgres' is reserved."],
    [
      'a user without password',
      { instance: { ...ok, users: [{ name: 'u' }] } },
      400,
      "Validation error: instance['users'][0] 'password' is a required property",
    ],
    ['the quota (0 instances)', { instance: ok }, 413, "Quota exceeded for resources: ['instances']."],
  ])('%s', async (_what, payload, status, message) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(status);
    const body = res.json();
    const [name] = Object.keys(body);
    expect(name).toBe({ 400: 'badRequest', 404: 'itemNotFound', 413: 'overLimit', 501: 'notImplemented' }[status]);
    expect(body[name!].code).toBe(status);
    if (message) expect(body[name!].message).toBe(message);
  });

  it('DELETE and GET with Content-Type: application/json and an empty body are accepted', async () => {
    const res = await e.t.app.inject({
      method: 'DELETE',
      url: `/v1.0/${P}/instances/00000000-0000-4000-8000-000000000000`,
      headers: { ...tok(P), 'content-type': 'application/json' },
      payload: '',
    });
    expect(res.statusCode).toBe(404);
    expect(Object.keys(res.json())).toEqual(['itemNotFound']);
  });
});

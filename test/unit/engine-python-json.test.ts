import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderMetadata, renderSha256File } from '../../src/engine/backup-format.js';
import { pythonJsonDumps, pythonUtcDateString, type PyJson } from '../../src/engine/python-json.js';

function pythonDumps(value: PyJson): string {
  const script = 'import json,sys; sys.stdout.write(json.dumps(json.loads(sys.stdin.read()), sort_keys=True, indent=2))';
  return execFileSync('python3', ['-c', script], { input: JSON.stringify(value) }).toString('utf8');
}

describe('pythonJsonDumps', () => {
  it('matches a known json.dumps(sort_keys=True, indent=2) string exactly', () => {
    const expected = '{\n  "a": [\n    1,\n    {\n      "x": null\n    }\n  ],\n  "b": [],\n  "c": {},\n  "d": "q\\"\\u00e9"\n}';
    expect(pythonJsonDumps({ d: 'q"é', c: {}, b: [], a: [1, { x: null }] })).toBe(expected);
  });

  it('is byte-identical to python3 for a Cinder-like _metadata document with awkward strings', () => {
    const doc: PyJson = {
      version: '1.0.0',
      objects: [{ 'p-00002': { offset: 10, length: 5, compression: 'zstd', md5: 'ab' } }, { 'p-00001': { offset: 0, length: 10, compression: 'none', md5: 'cd' } }],
      volume_meta: '{"version": 2, "volume-metadata": {"k": "v"}}',
      backup_name: 'caf\u00e9 \u{1F600} \u007f tab\tnl\n ctl\u0001 back\\slash',
      '10': true,
      '2': false,
      parent_id: null,
      empty: {},
      list: [],
    };
    expect(pythonJsonDumps(doc)).toBe(pythonDumps(doc));
  });

  it('renders _metadata and _sha256file exactly as python3 re-dumps them', () => {
    const header = { backupId: 'b1', volumeId: 'v1', name: 'nightly', description: null, createdAt: new Date(Date.UTC(2026, 10, 23, 18, 9, 21, 186)) };
    const meta = renderMetadata(header, [{ name: 'pre-00001', offset: 0, length: 4096, compression: 'zstd', md5: 'a'.repeat(32) }], null, null);
    expect(meta).toBe(pythonDumps(JSON.parse(meta) as PyJson));
    expect(meta).toContain('"created_at": "2026-11-23 18:09:21.186000+00:00"');
    const sha = renderSha256File(header, 32768, ['aa', 'bb']);
    expect(sha).toBe(pythonDumps(JSON.parse(sha) as PyJson));
    expect(JSON.parse(sha)).toMatchObject({ chunk_size: 32768, sha256s: ['aa', 'bb'], version: '1.0.0' });
  });
});

describe('pythonUtcDateString', () => {
  it('matches str(datetime) with and without microseconds', () => {
    const py = (iso: string): string =>
      execFileSync('python3', ['-c', `import datetime; print(str(datetime.datetime.fromisoformat("${iso}")), end="")`]).toString();
    expect(pythonUtcDateString(new Date('2026-11-23T18:09:21.186Z'))).toBe(py('2026-11-23T18:09:21.186000+00:00'));
    expect(pythonUtcDateString(new Date('2026-01-02T03:04:05.000Z'))).toBe(py('2026-01-02T03:04:05+00:00'));
  });
});

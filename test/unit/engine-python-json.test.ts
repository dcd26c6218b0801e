import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderMetadata, renderSha256File } from '../../src/engine/backup-format.js';
import { DigestList, digestsFromHex } from '../../src/engine/digest-list.js';
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
      objects: [
        { 'p-00002': { offset: 10, length: 5, compression: 'zstd', md5: 'ab' } },
        { 'p-00001': { offset: 0, length: 10, compression: 'none', md5: 'cd' } },
      ],
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
    const header = {
      backupId: 'b1',
      volumeId: 'v1',
      name: 'nightly',
      description: null,
      createdAt: new Date(Date.UTC(2026, 10, 23, 18, 9, 21, 186)),
    };
    const meta = renderMetadata(
      header,
      [{ name: 'pre-00001', offset: 0, length: 4096, compression: 'zstd', md5: 'a'.repeat(32) }],
      null,
      null,
    );
    expect(meta).toBe(pythonDumps(JSON.parse(meta) as PyJson));
    expect(meta).toContain('"created_at": "2026-11-23 18:09:21.186000+00:00"');
    const hashes = ['ab'.repeat(32), '0f'.repeat(32), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'];
    const list = new DigestList();
    list.append(digestsFromHex(hashes).digests);
    const sha = renderSha256File(header, 32768, list).toString('latin1');
    expect(sha).toBe(pythonDumps(JSON.parse(sha) as PyJson));
    expect(sha).toBe(pythonJsonDumps({ ...(JSON.parse(sha) as { [k: string]: PyJson }) }));
    expect(JSON.parse(sha)).toMatchObject({ chunk_size: 32768, sha256s: hashes, version: '1.0.0' });
    const empty = renderSha256File(header, 32768, new DigestList()).toString('latin1');
    expect(empty).toBe(pythonDumps(JSON.parse(empty) as PyJson));
    expect(JSON.parse(empty).sha256s).toEqual([]);
    const one = new DigestList();
    one.append(digestsFromHex([hashes[2]!]).digests);
    const single = renderSha256File(header, 32768, one).toString('latin1');
    expect(single).toBe(pythonDumps(JSON.parse(single) as PyJson));
    expect(JSON.parse(single).sha256s).toEqual([hashes[2]]);
  });

  it('writes a large hash list exactly as the generic serializer would, with a name that mimics the key', () => {
    const header = { backupId: 'b2', volumeId: 'v2', name: 'x "sha256s": [] y', description: '"sha256s": []', createdAt: new Date(0) };
    const list = new DigestList();
    const hex: string[] = [];
    for (let p = 0; p < 3; p++) {
      const part = new Uint8Array(1000 * 32).map((_, i) => (i * 7 + p * 13) & 0xff);
      list.append(part);
      for (let i = 0; i < 1000; i++) hex.push(Buffer.from(part.subarray(i * 32, i * 32 + 32)).toString('hex'));
    }
    const fast = renderSha256File(header, 4096, list).toString('latin1');
    const doc = JSON.parse(fast) as { [k: string]: PyJson };
    expect(doc.sha256s).toEqual(hex);
    expect(fast).toBe(pythonJsonDumps(doc));
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

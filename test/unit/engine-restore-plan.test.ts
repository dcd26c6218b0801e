import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dataObjectName } from '../../src/engine/backup-format.js';
import { digestsFromHex } from '../../src/engine/digest-list.js';
import { BackupIntegrityError } from '../../src/engine/engine-api.js';
import { planFinalMap, type Layer } from '../../src/engine/restore-plan.js';

const bs = 4;
function layer(prefix: string, hashes: string, objects: Array<[number, number]>): Layer {
  return {
    location: { container: 'c', prefix },
    blockSize: bs,
    // One letter per block: equal letters are equal hashes.
    hashes: digestsFromHex([...hashes].map((c) => createHash('sha256').update(c).digest('hex'))),
    volumeMeta: null,
    objects: objects.map(([offset, length], i) => ({ name: `${prefix}-${i + 1}`, offset, length, compression: 'none', md5: '' })),
  };
}

describe('dataObjectName', () => {
  it('pads to 5 digits and widens past 99999', () => {
    expect(dataObjectName('p', 1)).toBe('p-00001');
    expect(dataObjectName('p', 100000)).toBe('p-100000');
  });
});

describe('planFinalMap', () => {
  it('takes each byte from the newest layer holding it and drops fully shadowed objects', () => {
    const full = layer('full', 'abcdef', [
      [0, 8],
      [8, 8],
      [16, 8],
    ]); // 6 blocks of 4 bytes, 3 objects
    const inc1 = layer('inc1', 'aXcdef', [[4, 4]]);
    const inc2 = layer('inc2', 'aXcdYZ', [[16, 8]]);
    const plan = planFinalMap([full, inc1, inc2]);
    expect(plan.map((p) => [p.entry.name, p.ranges])).toEqual([
      ['full-1', [[0, 4]]],
      ['inc1-1', [[4, 8]]],
      ['full-2', [[8, 16]]],
      ['inc2-1', [[16, 24]]],
    ]);
  });

  it('rejects a block from an older layer whose hash disagrees with the requested backup', () => {
    const full = layer('full', 'abcd', [[0, 16]]);
    const inc = layer('inc', 'aBcQ', [[4, 4]]); // claims block 3 changed but stores no object for it
    expect(() => planFinalMap([full, inc])).toThrow(new BackupIntegrityError('block 3 of full-1 disagrees with inc_sha256file'));
  });

  it('rejects objects that do not cover the hash list', () => {
    expect(() => planFinalMap([layer('f', 'abc', [[0, 8]])])).toThrow(/do not cover the 3 blocks/);
    expect(() =>
      planFinalMap([
        layer('f', 'abc', [
          [0, 4],
          [8, 4],
        ]),
      ]),
    ).toThrow(BackupIntegrityError);
  });

  it('handles a short last block and an empty volume', () => {
    expect(planFinalMap([layer('f', 'ab', [[0, 6]])])).toHaveLength(1);
    expect(planFinalMap([layer('f', '', [])])).toEqual([]);
  });
});

describe('planFinalMap against a byte-by-byte painter', () => {
  it('picks, for every byte, the newest layer (later-listed object within a layer) that holds it', async () => {
    const fc = await import('fast-check');
    const blocks = 24;
    const extent = fc.tuple(fc.nat(blocks - 1), fc.integer({ min: 1, max: 6 }));
    fc.assert(
      fc.property(fc.array(fc.array(extent, { maxLength: 5 }), { maxLength: 4 }), (incs) => {
        const hashes = 'x'.repeat(blocks);
        const chain = [
          layer('full', hashes, [
            [0, 10 * bs],
            [10 * bs, 14 * bs],
          ]),
        ];
        incs.forEach((objs, i) =>
          chain.push(
            layer(
              `i${i}`,
              hashes,
              objs.map(([b, n]) => [b * bs, Math.min(n, blocks - b) * bs]),
            ),
          ),
        );
        const painted: string[] = [];
        for (const l of chain) for (const o of l.objects) for (let p = o.offset; p < o.offset + o.length; p++) painted[p] = o.name;
        const planned: string[] = [];
        const plan = planFinalMap(chain);
        for (const p of plan) for (const [s, e] of p.ranges) for (let x = s; x < e; x++) planned[x] = p.entry.name;
        expect(planned).toEqual(painted);
        expect(new Set(plan.map((p) => p.entry.name)).size).toBe(plan.length); // each object at most once
      }),
      { numRuns: 300 },
    );
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSha256File, renderSha256File } from '../../src/engine/backup-format.js';
import { DigestList, digestsFromHex } from '../../src/engine/digest-list.js';
import { readSha256File } from '../../src/engine/sha256-file-reader.js';

const hex = (i: number): string => createHash('sha256').update(String(i)).digest('hex');
const NAME = 'p_sha256file';

/** What the generic path (one string, JSON.parse, zod, digestsFromHex) returns or throws. */
function generic(doc: string): unknown {
  try {
    const sha = parseSha256File(doc, NAME);
    return { blockSize: sha.blockSize, hashes: digestsFromHex(sha.sha256s) };
  } catch (err) {
    return { error: String(err) };
  }
}

function read(doc: string): unknown {
  try {
    return readSha256File(Buffer.from(doc, 'utf8'), NAME);
  } catch (err) {
    return { error: String(err) };
  }
}

describe('readSha256File', () => {
  it('decodes a rendered _sha256file to the digests the generic parser gives', () => {
    const list = new DigestList();
    list.append(digestsFromHex([hex(1), hex(2), hex(3)]).digests);
    const header = { backupId: 'b', volumeId: 'v', name: 'a "[sha256s": [', description: null, createdAt: new Date(0) };
    const doc = renderSha256File(header, 32768, list);
    const r = readSha256File(doc, NAME);
    expect(r).toEqual(generic(doc.toString('utf8')));
    expect(Buffer.from(r.hashes.digests).toString('hex')).toBe(hex(1) + hex(2) + hex(3));
    expect([...r.hashes.valid]).toEqual([1, 1, 1]);
  });

  const docs: Record<string, string> = {
    'an empty list': '{"chunk_size": 512, "sha256s": []}',
    'compact JSON': `{"sha256s":["${hex(1)}","${hex(2)}"],"chunk_size":512}`,
    'CRLF and tabs': `{\r\n\t"sha256s" :\t[ "${hex(1)}" ,\r\n "${hex(2)}" ] ,\n"chunk_size": 512 }`,
    'an uppercase hash (never matches)': `{"chunk_size": 512, "sha256s": ["${hex(1).toUpperCase()}", "${hex(2)}"]}`,
    'a short hash': `{"chunk_size": 512, "sha256s": ["${hex(1).slice(1)}", "${hex(2)}"]}`,
    'an escaped hash': `{"chunk_size": 512, "sha256s": ["\\u0030${hex(1).slice(1)}"]}`,
    'an escaped key': `{"chunk_size": 512, "sha256\\u0073": ["${hex(1)}"]}`,
    'a repeated key (the last wins)': `{"chunk_size": 512, "sha256s": ["${hex(1)}"], "sha256s": ["${hex(2)}", "${hex(3)}"]}`,
    'an escaped key after the plain one': `{"chunk_size": 512, "sha256s": ["${hex(1)}"], "sha256\\u0073": ["${hex(2)}"]}`,
    'an escaped key before the plain one': `{"chunk_size": 512, "sha256\\u0073": ["${hex(2)}"], "sha256s": ["${hex(1)}"]}`,
    'the key nested after an empty top-level list': `{"chunk_size": 512, "sha256s": [], "x": {"sha256s": ["${hex(1)}"]}}`,
    'junk between hashes': `{"chunk_size": 512, "sha256s": ["${hex(1)}"x "${hex(2)}"]}`,
    'the key nested deeper': `{"chunk_size": 512, "x": {"sha256s": ["${hex(1)}"]}, "sha256s": ["${hex(2)}"]}`,
    'the key inside a string': `{"chunk_size": 512, "d": "\\"sha256s\\": [\\"${hex(9)}\\"]", "sha256s": ["${hex(2)}"]}`,
    'a trailing comma': `{"chunk_size": 512, "sha256s": ["${hex(1)}",]}`,
    'a missing comma': `{"chunk_size": 512, "sha256s": ["${hex(1)}" "${hex(2)}"]}`,
    'a number in the list': `{"chunk_size": 512, "sha256s": ["${hex(1)}", 5]}`,
    'a nested list': `{"chunk_size": 512, "sha256s": [["${hex(1)}"]]}`,
    'a list that is not one': `{"chunk_size": 512, "sha256s": "${hex(1)}"}`,
    'no chunk_size': `{"sha256s": ["${hex(1)}"]}`,
    'a bad chunk_size': `{"chunk_size": -1, "sha256s": ["${hex(1)}"]}`,
    'broken JSON after the list': `{"chunk_size": 512, "sha256s": ["${hex(1)}"], }`,
    'an unterminated list': `{"chunk_size": 512, "sha256s": ["${hex(1)}"`,
    'a top-level list': `[{"chunk_size": 512, "sha256s": ["${hex(1)}"]}]`,
    'a byte-order mark': `\ufeff{"chunk_size": 512, "sha256s": ["${hex(1)}"]}`,
  };
  for (const [what, doc] of Object.entries(docs)) {
    it(`returns or throws what the generic parser does for ${what}`, () => {
      expect(read(doc)).toEqual(generic(doc));
    });
  }
});

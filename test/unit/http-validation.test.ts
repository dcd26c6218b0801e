import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HttpFault } from '../../src/http/faults.js';
import { cinderValidationMessage, parseOrThrow } from '../../src/http/validation.js';

const Body = z.strictObject({
  backup: z.strictObject({
    volume_id: z.string(),
    name: z.string().max(5).nullable().optional(),
    tags: z.array(z.string()).optional(),
  }),
});

const message = (input: unknown): string => {
  const r = Body.safeParse(input);
  if (r.success) throw new Error('expected a validation failure');
  return cinderValidationMessage(r.error.issues, input);
};

describe("Cinder's validation messages from zod issues", () => {
  it('a missing key names the object that lacks it', () => {
    expect(message({ backup: { name: 'n' } })).toBe(
      `Invalid input for field/attribute backup. Value: {"name":"n"}. 'volume_id' is a required property`,
    );
  });

  it('a missing top-level key names the body', () => {
    expect(message({})).toBe("Invalid input for field/attribute body. Value: {}. 'backup' is a required property");
  });

  it('extra keys are "Additional properties are not allowed"', () => {
    expect(message({ backup: { volume_id: 'v', x: 1, y: 2 } })).toMatch(
      /^Invalid input for field\/attribute backup\. Value: .*\. Additional properties are not allowed \('x', 'y' were unexpected\)$/,
    );
  });

  it('a wrong type is "<value> is not of type"', () => {
    expect(message({ backup: { volume_id: 7 } })).toBe("Invalid input for field/attribute volume_id. Value: 7. 7 is not of type 'string'");
    expect(message({ backup: { volume_id: 'v', tags: ['a', 3] } })).toBe(
      "Invalid input for field/attribute 1. Value: 3. 3 is not of type 'string'",
    );
  });

  it('a null where a value is required is a type error, not a missing key', () => {
    expect(message({ backup: { volume_id: null } })).toBe(
      "Invalid input for field/attribute volume_id. Value: None. None is not of type 'string'",
    );
  });

  it("other checks keep zod's reason and show the value (long values cut at 100 characters)", () => {
    expect(message({ backup: { volume_id: 'v', name: 'toolong' } })).toMatch(
      /^Invalid input for field\/attribute name\. Value: toolong\. .+/,
    );
    const long = 'x'.repeat(300);
    expect(message({ backup: { volume_id: 'v', name: long } })).toContain(`Value: ${'x'.repeat(100)}...`);
  });

  it('parseOrThrow returns the parsed value or throws a 400 HttpFault with the message', () => {
    expect(parseOrThrow(Body, { backup: { volume_id: 'v' } })).toEqual({ backup: { volume_id: 'v' } });
    try {
      parseOrThrow(Body, { backup: {} });
      throw new Error('no throw');
    } catch (err) {
      expect(err).toBeInstanceOf(HttpFault);
      expect((err as HttpFault).statusCode).toBe(400);
      expect((err as HttpFault).message).toBe("Invalid input for field/attribute backup. Value: {}. 'volume_id' is a required property");
    }
  });
});

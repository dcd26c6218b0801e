import { describe, expect, it } from 'vitest';
import { failureReason } from '../../src/http/request-log.js';

describe('failureReason (the reason a failed request logs)', () => {
  it('reads a Cinder or Trove fault body', () => {
    expect(failureReason('{"itemNotFound":{"code":404,"message":"Backup abc could not be found."}}')).toEqual({
      error_code: 'itemNotFound',
      reason: 'Backup abc could not be found.',
    });
    expect(failureReason('{"overLimit":{"code":413,"message":"Quota exceeded","retryAfter":"0"}}')).toEqual({
      error_code: 'overLimit',
      reason: 'Quota exceeded',
    });
  });

  it("reads CBR's error_code and error_msg", () => {
    expect(failureReason('{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"r"}')).toEqual({
      error_code: 'APIGW.0301',
      reason: 'Incorrect IAM authentication information',
    });
  });

  it('gives nothing for bodies that are not error bodies', () => {
    for (const body of ['', 'not json', '{', '[1]', '{"a":1,"b":2}', '{"backup":{"id":"x"}}', undefined, Buffer.from('{}')]) {
      expect(failureReason(body), String(body)).toBeUndefined();
    }
  });
});

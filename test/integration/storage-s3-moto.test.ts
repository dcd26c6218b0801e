import { inject } from 'vitest';
import { describeObjectStore, s3Target, uniqueBucket } from './storage-conformance.js';

// Both checksum modes: WHEN_SUPPORTED sends CRC32 and aws-chunked bodies, which moto accepts.
for (const checksumMode of ['WHEN_REQUIRED', 'WHEN_SUPPORTED'] as const) {
  describeObjectStore(`moto (${checksumMode})`, () =>
    s3Target(inject('motoEndpoint'), { checksumMode, bucket: uniqueBucket(`moto-${checksumMode.toLowerCase().replace('_', '-')}`) }),
  );
}

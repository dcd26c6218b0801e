import { inject } from 'vitest';
import { describeObjectStore, s3Target, uniqueBucket } from './storage-conformance.js';

// Swift s3api 2.30 answers aws-chunked uploads with 501, so only WHEN_REQUIRED is run.
// Start a server with scripts/swift/start-swift.sh and export what it prints.
describeObjectStore('Swift s3api (WHEN_REQUIRED)', () =>
  s3Target(inject('swiftEndpoint'), {
    checksumMode: 'WHEN_REQUIRED',
    bucket: uniqueBucket('swift'),
    accessKeyId: process.env.TEST_SWIFT_ACCESS_KEY ?? 'test:tester',
    secretAccessKey: process.env.TEST_SWIFT_SECRET_KEY ?? 'testing',
  }),
);

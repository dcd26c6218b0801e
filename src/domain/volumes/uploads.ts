import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { releaseUploadSlot, tryTakeUploadSlot } from '../../db/volume-fence.js';
import { DomainError } from '../common/errors.js';
import { writeFencedOn } from './fence.js';

export interface UploadLimits {
  /** Uploads one project may run at once, over every process on the database. */
  perProject: number;
  /** Uploads this process runs at once (the size of its upload pool). */
  perProcess: number;
}

/**
 * Admission for client-paced data uploads. NOTE: an upload holds a database connection
 * (its advisory locks) for as long as the client takes to send the body, so it must not
 * take it from the pool that serves requests and jobs: a few slow clients would hold all
 * of it. Uploads run on a pool of their own, `perProcess` connections, and each project
 * gets at most `perProject` of them at a time (advisory-lock slots, so the limit holds
 * across API processes). Past either limit the upload is refused at once (413 overLimit).
 */
export class VolumeUploads {
  private active = 0;

  constructor(
    /** A pool of its own, at least `perProcess` connections; never the request pool. */
    private readonly db: Kysely<Database>,
    readonly limits: UploadLimits,
  ) {}

  /** Runs `fn` as an upload into the volume: a project slot, then the volume's write fence. */
  async run<T>(projectId: string, volumeId: string, fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limits.perProcess)
      throw new DomainError('over_limit', 'Too many volume data uploads in progress on this server; retry later.', 1);
    this.active++;
    try {
      return await this.db.connection().execute(async (conn) => {
        const slot = await tryTakeUploadSlot(conn, projectId, this.limits.perProject);
        if (slot === null)
          throw new DomainError(
            'over_limit',
            `Project ${projectId} already has ${this.limits.perProject} volume data uploads in progress; retry when one finishes.`,
            1,
          );
        try {
          return await writeFencedOn(conn, volumeId, fn);
        } finally {
          await releaseUploadSlot(conn, projectId, slot);
        }
      });
    } finally {
      this.active--;
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

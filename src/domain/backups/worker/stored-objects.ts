/**
 * Durable record of the objects a running backup stored, so that a run interrupted by a stop,
 * a crash or a lost lease resumes from them instead of starting over.
 */
import type { Logger } from 'pino';
import { recordStoredObjects, type StoredObjectRecord } from '../../../db/backup-stored-objects-repository.js';
import type { Db } from '../../../db/schema.js';
import type { StoredObject } from '../../../engine/engine-api.js';

/**
 * Batches the engine's onObjectStored reports into inserts (at most one in flight; a report
 * waits at most for the insert before it). A record that is lost with the process only costs
 * that object's re-upload on resume: the record follows the PUT, never precedes it.
 */
export function storedObjectRecorder(db: Db, backupId: string, log: Logger) {
  let batch: StoredObjectRecord[] = [];
  let pending: Promise<void> = Promise.resolve();
  const write = () => {
    const rows = batch;
    batch = [];
    pending = pending.then(() => recordStoredObjects(db, backupId, rows)).catch((err) => log.warn({ err }, 'stored objects not recorded'));
  };
  return {
    onObjectStored(name: string, o: StoredObject): void {
      batch.push({ name, ...o });
      if (batch.length === 1) void Promise.resolve().then(write);
    },
    /** Waits until every report so far is written (or its failure logged). */
    flush(): Promise<void> {
      if (batch.length > 0) write();
      return pending;
    },
  };
}

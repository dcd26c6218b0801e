/**
 * A named status change: the statuses it may start from, and where it goes. The
 * repositories' transitionVolume / transitionSnapshot / transitionBackup turn it into one
 * `UPDATE ... WHERE status = ANY(from) RETURNING *`, so a lost race is a 400, never a
 * silent overwrite. Every feature's status table is a record of these.
 */
export interface Transition<S extends string> {
  from: readonly S[];
  /** null: the target depends on the row or the request (previous status, the admin's choice), or the status stays. */
  to: S | null;
}

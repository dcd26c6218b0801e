/** Whose rows a query may see: one project, or every project (admins; projectId null). */
export interface Scope {
  projectId: string | null;
}

/**
 * Postgres' uuid input syntax (canonical, hyphen-less, or in braces): anything else cannot
 * name a row and must not reach a uuid column, where it would be a cast error, not a 404.
 */
export function isUuid(id: string): boolean {
  return /^\{?[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}\}?$/.test(id);
}

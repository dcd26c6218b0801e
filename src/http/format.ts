/**
 * Cinder renders timestamps as naive UTC with six fraction digits and no zone:
 * "2026-11-22T10:15:03.000000" (oslo.serialization).
 */
export function cinderTimestamp(date: Date): string;
export function cinderTimestamp(date: Date | null | undefined): string | null;
export function cinderTimestamp(date: Date | null | undefined): string | null {
  if (!date) return null;
  const iso = date.toISOString(); // 2026-11-22T10:15:03.123Z
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000`;
}

/**
 * The same rendering from Postgres' text of a UTC timestamp, "2026-11-22 10:15:03.123456"
 * (DateStyle ISO: 0 to 6 fraction digits), without a Date (db/backup-views-repository.ts).
 * The fraction is cut to milliseconds, as a Date cuts it, so both forms agree byte for byte.
 * Throws on any other form (years beyond 9999, BC, infinity, another DateStyle).
 */
export function cinderTimestampFromUtc(text: string): string;
export function cinderTimestampFromUtc(text: string | null): string | null;
export function cinderTimestampFromUtc(text: string | null): string | null {
  if (text === null) return null;
  if (!isUtcText(text)) throw new Error(`not a UTC timestamp in Postgres' ISO text form: '${text}'`);
  const ms = text.length === 19 ? '000' : text.slice(20, 23).padEnd(3, '0');
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${ms}000`;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

// NOTE: a shape check, not a regex: it runs three times per item of a list page.
function isUtcText(text: string): boolean {
  const n = text.length;
  if (text.charCodeAt(4) !== 45 /* - */ || text.charCodeAt(10) !== 32 /* space */ || !isDigit(text.charCodeAt(18))) return false;
  if (n === 19) return true;
  if (n < 21 || n > 26 || text.charCodeAt(19) !== 46 /* . */) return false;
  for (let i = 20; i < n; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

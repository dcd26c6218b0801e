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

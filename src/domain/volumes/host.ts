/** Cinder's host@backend#pool for a volume made on host `hostId` (tempest checks the shape). */
export function volumeHost(hostId: string): string {
  return `${hostId}@file#file`;
}

/**
 * The host whose DATA_DIR holds the volume's file (the part of host@backend#pool before '@'):
 * its jobs run there. Null for a row recorded without a host (any worker may run them).
 */
export function volumeHostId(volume: { host: string | null }): string | null {
  const host = volume.host?.split('@')[0];
  return host ? host : null;
}

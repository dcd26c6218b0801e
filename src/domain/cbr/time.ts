/** CBR timestamps: UTC, no zone suffix, microseconds ("2020-02-05T10:38:34.209000"). */
export function cbrTime(d: Date | null | undefined): string | null {
  if (!d) return null;
  return `${d.toISOString().slice(0, 23)}000`;
}

/** The policy trigger's start_time form ("2019-05-08 06:57:05"). */
export function cbrSpaceTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** CBR's provider_id of cloud-disk (EVS) backups, a fixed id its API prints on vaults and checkpoints. */
export const DISK_PROVIDER_ID = 'd1603440-187d-4516-af25-121250c7cc97';
export const VOLUME_TYPE = 'OS::Cinder::Volume';

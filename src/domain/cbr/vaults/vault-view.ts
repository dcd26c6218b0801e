import { vaultVolumeStats, vaultsStoredBytes } from '../../../db/cbr-vault-contents-repository.js';
import { vaultResources } from '../../../db/cbr-vaults-repository.js';
import type { CbrVaultRow, Db } from '../../../db/schema.js';
import { protectStatus } from '../checkpoints/show-checkpoint.js';
import { DISK_PROVIDER_ID, VOLUME_TYPE, cbrTime } from '../time.js';

/** A vault resource (CBR's ResourceResp): sizes are integers, extra_info an object. */
export interface VaultResourceView {
  id: string;
  name: string;
  type: string;
  protect_status: string;
  /** The volume's size, GB. */
  size: number;
  backup_count: number;
  /** Stored bytes of its backups in this vault, GB rounded up. */
  backup_size: number;
  extra_info: Record<string, unknown>;
}

/** The vault object of V1-V4 (CBR's Vault object). */
export interface VaultView {
  id: string;
  name: string;
  description: string;
  project_id: string;
  provider_id: string;
  user_id: string;
  created_at: string;
  updated_at: string | null;
  billing: {
    allocated: number;
    used: number;
    size: number;
    status: string;
    spec_code: string;
    object_type: string;
    protect_type: string;
    consistent_level: string;
    charging_mode: string;
    cloud_type: string;
    is_multi_az: boolean;
    frozen_scene: null;
    storage_unit: string;
  };
  resources: VaultResourceView[];
  tags: Array<{ key: string; value: string }>;
  enterprise_project_id: string;
  auto_bind: boolean;
  auto_expand: boolean;
  locked: boolean;
  smn_notify: boolean;
  bind_rules: { tags?: Array<{ key: string; value: string }> };
  threshold: number;
  backup_name_prefix: string;
  availability_zone: string;
}

/** What a vault keeps in its `extra` column: what the caller sent that has no column of its own. */
export interface VaultExtra {
  tags?: Array<{ key: string; value: string }>;
  bind_rules?: { tags?: Array<{ key: string; value: string }> };
  availability_zone?: string;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export function vaultExtra(row: CbrVaultRow): VaultExtra {
  return (typeof row.extra === 'string' ? JSON.parse(row.extra) : row.extra) as VaultExtra;
}

/** The views of many vaults in a few queries (resources in binding order, identical in list and show). */
export async function buildVaultViews(db: Db, rows: readonly CbrVaultRow[]): Promise<VaultView[]> {
  const ids = rows.map((r) => r.id);
  const [resources, stats, stored] = await Promise.all([vaultResources(db, ids), vaultVolumeStats(db, ids), vaultsStoredBytes(db, ids)]);
  const statOf = new Map(stats.map((s) => [`${s.vaultId}/${s.volumeId}`, s]));
  return rows.map((row) => {
    const extra = vaultExtra(row);
    const mine = resources.filter((r) => r.vaultId === row.id);
    return {
      id: row.id,
      name: row.name,
      description: row.description ?? '',
      project_id: row.project_id,
      provider_id: DISK_PROVIDER_ID,
      user_id: row.user_id,
      created_at: cbrTime(row.created_at)!,
      updated_at: cbrTime(row.updated_at),
      billing: {
        allocated: mine.reduce((n, r) => n + r.volume.size, 0),
        used: Math.ceil((stored.get(row.id) ?? 0) / MIB),
        size: row.size_gb,
        status: row.status,
        spec_code: 'vault.backup.volume.normal',
        object_type: 'disk',
        protect_type: 'backup',
        consistent_level: row.consistent_level,
        charging_mode: row.charging_mode,
        cloud_type: row.cloud_type,
        is_multi_az: false,
        frozen_scene: null,
        storage_unit: 'GB',
      },
      resources: mine.map((r) => {
        const s = statOf.get(`${row.id}/${r.volume.id}`);
        return {
          id: r.volume.id,
          name: r.name ?? r.volume.display_name ?? '',
          type: VOLUME_TYPE,
          protect_status: protectStatus(s?.newestStatus ?? undefined),
          size: r.volume.size,
          backup_count: s?.count ?? 0,
          backup_size: Math.ceil((s?.storedBytes ?? 0) / GIB),
          extra_info: {},
        };
      }),
      tags: extra.tags ?? [],
      enterprise_project_id: row.enterprise_project_id,
      auto_bind: row.auto_bind,
      auto_expand: row.auto_expand,
      locked: row.locked,
      smn_notify: row.smn_notify,
      bind_rules: extra.bind_rules ?? {},
      threshold: row.threshold,
      backup_name_prefix: row.backup_name_prefix ?? '',
      availability_zone: extra.availability_zone ?? '',
    };
  });
}

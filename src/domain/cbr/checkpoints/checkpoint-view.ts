/** A volume a checkpoint could not back up, and why (listed in the checkpoint's vault.skipped_resources). */
export interface SkippedResource {
  id: string;
  type: string;
  name: string;
  code: string;
  reason: string;
}

/** The checkpoint object that create and show answer (CBR prints the sizes and backup_count as strings). */
export interface CheckpointView {
  id: string;
  project_id: string;
  status: string;
  created_at: string;
  extra_info: { name: string; description: string; retention_duration: number };
  vault: {
    id: string;
    name: string;
    provider_id: string;
    resources: Array<{
      id: string;
      name: string;
      type: string;
      protect_status: string;
      resource_size: string;
      backup_size: string;
      backup_count: string;
      extra_info: string | null;
    }>;
    skipped_resources: SkippedResource[];
  };
}

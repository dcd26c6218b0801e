import type { Kysely } from 'kysely';

// Cinder's volume_glance_metadata: the image properties of a volume (os-set_image_metadata,
// `openstack volume set --image-property`), and the copy a snapshot of a bootable volume keeps
// for the volumes made from it. Values are text: Cinder allows up to 65,535 bytes.
// Migrations import nothing from src/.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('volume_image_metadata')
    .addColumn('volume_id', 'uuid', (c) => c.notNull().references('volumes.id').onDelete('cascade'))
    .addColumn('key', 'varchar(255)', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('volume_image_metadata_pk', ['volume_id', 'key'])
    .execute();
  await db.schema
    .createTable('snapshot_image_metadata')
    .addColumn('snapshot_id', 'uuid', (c) => c.notNull().references('snapshots.id').onDelete('cascade'))
    .addColumn('key', 'varchar(255)', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('snapshot_image_metadata_pk', ['snapshot_id', 'key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('snapshot_image_metadata').ifExists().execute();
  await db.schema.dropTable('volume_image_metadata').ifExists().execute();
}

import type { Kysely } from 'kysely';

// A backup deleted through CBR while later incrementals still restore through its data: it leaves the
// CBR views at once and its data is deleted when its last dependent goes. Migrations import nothing from src/.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('backups')
    .addColumn('cbr_deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('backups').dropColumn('cbr_deleted').execute();
}

import type { Kysely } from 'kysely';

// Migrations import nothing from src/: they must keep working as the code moves on.

/** Quota classes (os-quota-class-sets): the `default` class overrides the configured defaults. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('quota_classes')
    .addColumn('class_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('resource', 'varchar(255)', (c) => c.notNull())
    .addColumn('hard_limit', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('quota_classes_pk', ['class_name', 'resource'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('quota_classes').execute();
}

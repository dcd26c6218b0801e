import { type Kysely, sql } from 'kysely';

// CBR scheduler (issue 14): one row per (policy, vault, trigger instant). Its primary key is what
// makes a trigger fire once across every worker process: the process whose INSERT wins fires it.
// Migrations import nothing from src/.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('cbr_schedule_triggers')
    .addColumn('policy_id', 'uuid', (c) => c.notNull())
    .addColumn('vault_id', 'uuid', (c) => c.notNull())
    .addColumn('trigger_at', 'timestamptz', (c) => c.notNull())
    // firing -> fired -> done (retention applied) | failed; missed: no worker ran at its time.
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('owner', 'varchar(255)', (c) => c.notNull())
    .addColumn('checkpoint_id', 'uuid')
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz')
    .addPrimaryKeyConstraint('cbr_schedule_triggers_pk', ['policy_id', 'vault_id', 'trigger_at'])
    .execute();
  await db.schema.createIndex('cbr_schedule_triggers_status_idx').on('cbr_schedule_triggers').columns(['status', 'trigger_at']).execute();
  await db.schema.createIndex('cbr_schedule_triggers_checkpoint_idx').on('cbr_schedule_triggers').column('checkpoint_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('cbr_schedule_triggers').execute();
}

/**
 * `trace_rollup_all`: the per-minute stats rollup over all models and providers, so the time
 * buckets of /api/stats read a few rows per minute whatever the number of models
 * (src/traces/trace-rollup.ts). Filled from the traces already stored.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rollupBackfillSql, rollupTableDdl } from '../../traces/trace-rollup';

export class AddTraceRollupAll1795348200000 implements MigrationInterface {
  name = 'AddTraceRollupAll1795348200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(rollupTableDdl('trace_rollup_all'));
    await q.query(rollupBackfillSql(q.connection.options.type === 'postgres', 'trace_rollup_all'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE trace_rollup_all');
  }
}

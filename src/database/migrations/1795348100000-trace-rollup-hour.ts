/**
 * `trace_rollup_hour`: the stats rollup per hour, so /api/stats over days reads a few rows per
 * hour and model (src/traces/trace-rollup.ts). Filled from the traces already stored.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rollupBackfillSql, rollupTableDdl } from '../../traces/trace-rollup';

export class AddTraceRollupHour1795348100000 implements MigrationInterface {
  name = 'AddTraceRollupHour1795348100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(rollupTableDdl('trace_rollup_hour'));
    await q.query(rollupBackfillSql(q.connection.options.type === 'postgres', 'trace_rollup_hour'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE trace_rollup_hour');
  }
}

/**
 * `trace_rollup`: per-minute counts per model, provider and latency bucket, so /api/stats over a
 * long range reads a few rows per minute instead of every trace (src/traces/trace-rollup.ts).
 * Filled from the traces already stored.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rollupBackfillSql, rollupTableDdl } from '../../traces/trace-rollup';

export class AddTraceRollup1795347900000 implements MigrationInterface {
  name = 'AddTraceRollup1795347900000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    await q.query(rollupTableDdl('trace_rollup'));
    await q.query(rollupBackfillSql(pg));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE trace_rollup');
  }
}

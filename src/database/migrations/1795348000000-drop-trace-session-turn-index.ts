/**
 * Drops `idx_traces_session (session_id, turn)`: `idx_traces_session_created (session_id,
 * created_at)` serves every session look-up (a session's traces are few, sorted by turn in
 * memory), and each index is one more b-tree insert per stored trace.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DropTraceSessionTurnIndex1795348000000 implements MigrationInterface {
  name = 'DropTraceSessionTurnIndex1795348000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX idx_traces_session');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX idx_traces_session ON traces (session_id, turn)');
  }
}

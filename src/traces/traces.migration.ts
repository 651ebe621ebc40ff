/** Creates `traces` (indexed metadata), `trace_bodies` (kept apart) and `sessions`. SQLite and PostgreSQL. */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTraces1795347700000 implements MigrationInterface {
  name = 'CreateTraces1795347700000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    const bool = pg ? 'BOOLEAN' : 'INTEGER';
    const real = pg ? 'DOUBLE PRECISION' : 'REAL';
    await q.query(`CREATE TABLE traces (
      id VARCHAR(40) PRIMARY KEY NOT NULL,
      created_at BIGINT NOT NULL,
      session_id VARCHAR(200) NOT NULL,
      turn INTEGER NOT NULL,
      endpoint VARCHAR(64) NOT NULL,
      key_id VARCHAR(40),
      model VARCHAR(200),
      provider VARCHAR(200),
      upstream_model VARCHAR(200),
      stream ${bool} NOT NULL,
      status VARCHAR(16) NOT NULL,
      http_status INTEGER NOT NULL,
      error TEXT,
      latency_ms ${real} NOT NULL,
      ttft_ms ${real},
      overhead_ms ${real} NOT NULL,
      prompt_tokens INTEGER NOT NULL DEFAULT 0,
      completion_tokens INTEGER NOT NULL DEFAULT 0,
      total_tokens INTEGER NOT NULL DEFAULT 0,
      cached_tokens INTEGER NOT NULL DEFAULT 0,
      reasoning_tokens INTEGER NOT NULL DEFAULT 0,
      usage_source VARCHAR(16),
      multimodal ${bool} NOT NULL,
      tools ${bool} NOT NULL,
      attempts TEXT NOT NULL,
      metadata TEXT,
      replay_of VARCHAR(40),
      reply_hash VARCHAR(64)
    )`);
    await q.query('CREATE INDEX idx_traces_created ON traces (created_at, id)');
    await q.query('CREATE INDEX idx_traces_session ON traces (session_id, turn)');
    await q.query('CREATE INDEX idx_traces_model ON traces (model, created_at)');
    await q.query('CREATE INDEX idx_traces_status ON traces (status, created_at)');
    await q.query('CREATE INDEX idx_traces_key ON traces (key_id, created_at)');
    await q.query('CREATE INDEX idx_traces_reply_hash ON traces (reply_hash)');
    await q.query(`CREATE TABLE trace_bodies (
      trace_id VARCHAR(40) PRIMARY KEY NOT NULL,
      request TEXT,
      upstream_request TEXT,
      response TEXT
    )`);
    await q.query(`CREATE TABLE sessions (
      id VARCHAR(200) PRIMARY KEY NOT NULL,
      name VARCHAR(200) NOT NULL,
      first_at BIGINT NOT NULL,
      last_at BIGINT NOT NULL,
      turns INTEGER NOT NULL,
      models TEXT NOT NULL,
      total_tokens BIGINT NOT NULL
    )`);
    await q.query('CREATE INDEX idx_sessions_last ON sessions (last_at, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sessions');
    await q.query('DROP TABLE trace_bodies');
    await q.query('DROP TABLE traces');
  }
}

/**
 * Full-text search over trace text and the session/time index. SQLite: a contentless FTS5 table
 * keyed by the trace's rowid (insertion order, so `ORDER BY rowid DESC` walks newest first inside
 * the index). PostgreSQL: a `tsvector` per trace with a GIN index. Both are filled by the writer
 * from the request and response text; existing bodies are indexed here once.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddTraceSearch1795347800000 implements MigrationInterface {
  name = 'AddTraceSearch1795347800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX idx_traces_session_created ON traces (session_id, created_at)');
    if (q.connection.options.type === 'postgres') {
      await q.query(`CREATE TABLE trace_search (
        trace_id VARCHAR(40) PRIMARY KEY NOT NULL,
        tsv TSVECTOR NOT NULL
      )`);
      await q.query('CREATE INDEX idx_trace_search_tsv ON trace_search USING GIN (tsv)');
      await q.query(`INSERT INTO trace_search (trace_id, tsv)
        SELECT trace_id, to_tsvector('simple', COALESCE(request, '') || ' ' || COALESCE(response, ''))
        FROM trace_bodies`);
    } else {
      await q.query(
        "CREATE VIRTUAL TABLE trace_fts USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')",
      );
      await q.query(`INSERT INTO trace_fts (rowid, body)
        SELECT t.rowid, COALESCE(b.request, '') || ' ' || COALESCE(b.response, '')
        FROM traces t JOIN trace_bodies b ON b.trace_id = t.id`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (q.connection.options.type === 'postgres') await q.query('DROP TABLE trace_search');
    else await q.query('DROP TABLE trace_fts');
    await q.query('DROP INDEX idx_traces_session_created');
  }
}

/**
 * Trace writes over the shared TypeORM DataSource (SQLite or PostgreSQL): one transaction per
 * batch, multi-row inserts, each trace threaded into its session, the sessions table kept up to
 * date, and the search index filled. Bodies go to `trace_bodies`, apart from indexed metadata.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { TraceDraft } from './trace-builder';
import { num, parseJson, placeholders, Sql, TRACE_COLUMNS } from './trace-sql';
import { sessionName } from './threading';

export interface StoredTrace {
  id: string;
  session_id: string;
  turn: number;
}

interface SessionDelta {
  id: string;
  name: string;
  first: number;
  last: number;
  turns: number;
  models: Set<string>;
  tokens: number;
}

const INSERT_COLUMNS = [...TRACE_COLUMNS, 'reply_hash'].join(', ');

export class TraceStore {
  readonly sql: Sql;

  constructor(ds: DataSource) {
    this.sql = new Sql(ds);
  }

  get isPostgres(): boolean {
    return this.sql.pg;
  }

  /** True when the database answers. */
  async ping(): Promise<boolean> {
    try {
      await this.sql.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Inserts a batch in one transaction, threading each trace into its session. */
  async insertBatch(drafts: readonly TraceDraft[], storeBodies: boolean): Promise<StoredTrace[]> {
    if (drafts.length === 0) return [];
    return this.sql.ds.transaction(async (m) => {
      const placed = await this.thread(m, drafts);
      await this.insertTraces(m, drafts, placed);
      if (storeBodies) {
        await this.insertBodies(m, drafts);
        await this.insertSearch(m, drafts);
      }
      await this.upsertSessions(m, drafts, placed);
      return drafts.map((d, i) => ({ id: d.id, session_id: placed[i]!.session, turn: placed[i]!.turn }));
    });
  }

  /** Session and turn of each draft; drafts of one batch see each other in order. */
  private async thread(m: EntityManager, drafts: readonly TraceDraft[]): Promise<Array<{ session: string; turn: number }>> {
    const byReply = new Map<string, { session: string; turn: number }>();
    const turns = new Map<string, number>();
    const out: Array<{ session: string; turn: number }> = [];
    for (const d of drafts) {
      let session: string;
      let turn: number;
      if (d.sessionHeader) {
        session = d.sessionHeader;
        let current = turns.get(session);
        if (current === undefined) {
          const rows = await this.sql.query('SELECT COUNT(*) AS n FROM traces WHERE session_id = ?', [session], m);
          current = num(rows[0]?.n);
        }
        turn = d.turnOverride ?? current + 1;
      } else {
        let parent = d.parentHash ? byReply.get(d.parentHash) : undefined;
        if (!parent && d.parentHash) {
          const rows = await this.sql.query(
            'SELECT session_id, turn FROM traces WHERE reply_hash = ? ORDER BY created_at DESC LIMIT 1',
            [d.parentHash],
            m,
          );
          if (rows[0]) parent = { session: String(rows[0].session_id), turn: num(rows[0].turn) };
        }
        session = parent ? parent.session : d.id;
        turn = d.turnOverride ?? (parent ? parent.turn + 1 : 1);
      }
      turns.set(session, Math.max(turns.get(session) ?? 0, turn));
      if (d.replyHash) byReply.set(d.replyHash, { session, turn });
      out.push({ session, turn });
    }
    return out;
  }

  private async insertTraces(
    m: EntityManager,
    drafts: readonly TraceDraft[],
    placed: ReadonlyArray<{ session: string; turn: number }>,
  ): Promise<void> {
    const params: unknown[] = [];
    drafts.forEach((d, i) => {
      const u = d.usage;
      params.push(
        d.id,
        d.createdAt,
        placed[i]!.session,
        placed[i]!.turn,
        d.endpoint,
        d.keyId,
        d.model,
        d.provider,
        d.upstreamModel,
        this.sql.bool(d.stream),
        d.status,
        d.httpStatus,
        d.error,
        d.latencyMs,
        d.ttftMs,
        d.overheadMs,
        u?.prompt_tokens ?? 0,
        u?.completion_tokens ?? 0,
        u?.total_tokens ?? 0,
        u?.cached_tokens ?? 0,
        u?.reasoning_tokens ?? 0,
        u?.source ?? null,
        this.sql.bool(d.multimodal),
        this.sql.bool(d.tools),
        JSON.stringify(d.attempts),
        d.metadata ? JSON.stringify(d.metadata) : null,
        d.replayOf,
        d.replyHash,
      );
    });
    await this.sql.query(
      `INSERT INTO traces (${INSERT_COLUMNS}) VALUES ${placeholders(drafts.length, TRACE_COLUMNS.length + 1)} ON CONFLICT (id) DO NOTHING`,
      params,
      m,
    );
  }

  private async insertBodies(m: EntityManager, drafts: readonly TraceDraft[]): Promise<void> {
    const params: unknown[] = [];
    for (const d of drafts) {
      params.push(
        d.id,
        JSON.stringify(d.request ?? null),
        JSON.stringify(d.upstreamRequest ?? null),
        JSON.stringify(d.response ?? null),
      );
    }
    await this.sql.query(
      `INSERT INTO trace_bodies (trace_id, request, upstream_request, response) VALUES ${placeholders(drafts.length, 4)} ON CONFLICT (trace_id) DO NOTHING`,
      params,
      m,
    );
  }

  private async insertSearch(m: EntityManager, drafts: readonly TraceDraft[]): Promise<void> {
    const params: unknown[] = [];
    for (const d of drafts) params.push(d.id, d.searchText);
    if (this.sql.pg) {
      const values = drafts.map(() => "(?, to_tsvector('simple', ?))").join(', ');
      await this.sql.query(`INSERT INTO trace_search (trace_id, tsv) VALUES ${values} ON CONFLICT (trace_id) DO NOTHING`, params, m);
    } else {
      // The FTS row shares the trace's rowid, so search results come back in storage order.
      await this.sql.query(
        `WITH v(id, body) AS (VALUES ${placeholders(drafts.length, 2)})
         INSERT INTO trace_fts (rowid, body) SELECT t.rowid, v.body FROM v JOIN traces t ON t.id = v.id`,
        params,
        m,
      );
    }
  }

  private async upsertSessions(
    m: EntityManager,
    drafts: readonly TraceDraft[],
    placed: ReadonlyArray<{ session: string; turn: number }>,
  ): Promise<void> {
    const deltas = new Map<string, SessionDelta>();
    drafts.forEach((d, i) => {
      const { session, turn } = placed[i]!;
      let s = deltas.get(session);
      if (!s) {
        s = { id: session, name: sessionName(d.messages as never[]), first: d.createdAt, last: d.createdAt, turns: 0, models: new Set(), tokens: 0 };
        deltas.set(session, s);
      }
      s.first = Math.min(s.first, d.createdAt);
      s.last = Math.max(s.last, d.createdAt);
      s.turns = Math.max(s.turns, turn);
      if (d.model) s.models.add(d.model);
      s.tokens += d.usage?.total_tokens ?? 0;
    });
    const list = [...deltas.values()];
    const existing = await this.sql.query(
      `SELECT id, models FROM sessions WHERE id IN (${list.map(() => '?').join(', ')})`,
      list.map((s) => s.id),
      m,
    );
    for (const r of existing) {
      const s = deltas.get(String(r.id));
      const before = parseJson(r.models);
      if (s && Array.isArray(before)) s.models = new Set([...before.map(String), ...s.models]);
    }
    const params: unknown[] = [];
    for (const s of list) params.push(s.id, s.name, s.first, s.last, s.turns, JSON.stringify([...s.models]), s.tokens);
    await this.sql.query(
      `INSERT INTO sessions (id, name, first_at, last_at, turns, models, total_tokens) VALUES ${placeholders(list.length, 7)}
       ON CONFLICT (id) DO UPDATE SET
         first_at = CASE WHEN sessions.first_at < excluded.first_at THEN sessions.first_at ELSE excluded.first_at END,
         last_at = CASE WHEN sessions.last_at > excluded.last_at THEN sessions.last_at ELSE excluded.last_at END,
         turns = CASE WHEN sessions.turns > excluded.turns THEN sessions.turns ELSE excluded.turns END,
         models = excluded.models,
         total_tokens = sessions.total_tokens + excluded.total_tokens`,
      params,
      m,
    );
  }

  /** Removes traces (metadata, bodies, search rows) by id, in one transaction. */
  async deleteIds(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const inList = ids.map(() => '?').join(', ');
    return this.sql.ds.transaction(async (m) => {
      const found = await this.sql.query(`SELECT id FROM traces WHERE id IN (${inList})`, [...ids], m);
      if (found.length === 0) return 0;
      await this.sql.query(`DELETE FROM trace_bodies WHERE trace_id IN (${inList})`, [...ids], m);
      if (this.sql.pg) await this.sql.query(`DELETE FROM trace_search WHERE trace_id IN (${inList})`, [...ids], m);
      else await this.sql.query(`DELETE FROM trace_fts WHERE rowid IN (SELECT rowid FROM traces WHERE id IN (${inList}))`, [...ids], m);
      await this.sql.query(`DELETE FROM traces WHERE id IN (${inList})`, [...ids], m);
      return found.length;
    });
  }

  async delete(id: string): Promise<boolean> {
    return (await this.deleteIds([id])) > 0;
  }

  /**
   * Deletes traces created before `cutoff` in small transactions, yielding between them so a
   * large first pass never stalls the event loop; then sessions with nothing newer.
   */
  async deleteOlderThan(cutoff: number, chunk = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await this.sql.query('SELECT id FROM traces WHERE created_at < ? ORDER BY created_at LIMIT ?', [cutoff, chunk]);
      if (rows.length === 0) break;
      total += await this.deleteIds(rows.map((r) => String(r.id)));
      await new Promise((r) => setImmediate(r));
    }
    await this.sql.query('DELETE FROM sessions WHERE last_at < ?', [cutoff]);
    return total;
  }
}

/**
 * Trace writes over a TypeORM DataSource: the trace worker's own pool on PostgreSQL (one
 * transaction per batch, multi-row inserts, each trace threaded into its session, the sessions
 * table, the search index and the stats rollup kept up to date), and deletes/retention from the
 * main thread on either database. Bodies go to `trace_bodies`, apart from indexed metadata.
 *
 * Turn numbers that come from counting a session's traces (X-Session-Id, `sessionOf`) are taken
 * under a per-session transaction lock on PostgreSQL, so replicas writing the same session at
 * once never hand out the same turn twice.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { bodyTexts, type TraceDraft } from './trace-builder';
import type { TraceSink } from './trace-pipeline';
import { ROLLUP_LEVELS, RollupDelta, rollupUpsert, type RollupSource } from './trace-rollup';
import { columnText, num, placeholders, Sql, TRACE_COLUMNS } from './trace-sql';
import { SessionDeltas } from './threading';

export interface StoredTrace {
  id: string;
  session_id: string;
  turn: number;
}

/** Namespace of the gateway's advisory locks (first key of pg_advisory_xact_lock). */
const SESSION_LOCK = 0x7452;

type Placement = { session: string; turn: number };

const INSERT_COLUMNS = [...TRACE_COLUMNS, 'reply_hash'].join(', ');

export class TraceStore implements TraceSink {
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

  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.sql.query(`SELECT id FROM traces WHERE id IN (${ids.map(() => '?').join(', ')})`, [...ids]);
    return new Set(rows.map((r) => String(r.id)));
  }

  /** Inserts a batch in one transaction, threading each trace into its session. */
  async insertBatch(batch: Iterable<TraceDraft>, storeBodies: boolean): Promise<StoredTrace[]> {
    const drafts: readonly TraceDraft[] = Array.isArray(batch) ? batch : [...batch];
    if (drafts.length === 0) return [];
    return this.sql.ds.transaction(async (m) => {
      const placed = await this.thread(m, drafts);
      await this.insertTraces(m, drafts, placed);
      if (storeBodies) {
        await this.insertBodies(m, drafts);
        await this.insertSearch(m, drafts);
      }
      await this.upsertSessions(m, drafts, placed);
      await this.upsertRollup(m, drafts, 1);
      return drafts.map((d, i) => ({ id: d.id, session_id: placed[i]!.session, turn: placed[i]!.turn }));
    });
  }

  /** Session and turn of each draft; drafts of one batch see each other in order. */
  private async thread(m: EntityManager, drafts: readonly TraceDraft[]): Promise<Placement[]> {
    const byReply = new Map<string, Placement>();
    const sessionOfId = new Map<string, string>();
    const counts = new Map<string, number>();
    const locked = new Set<string>();
    if (this.sql.pg) {
      const headers = [...new Set(drafts.map((d) => d.sessionHeader).filter((h): h is string => h !== null))].sort();
      await this.lock(m, headers, locked);
    }
    /** Traces stored in a session, counted once (under its lock on PostgreSQL), then kept up to date. */
    const count = async (session: string): Promise<number> => {
      let n = counts.get(session);
      if (n === undefined) {
        if (this.sql.pg && !locked.has(session)) await this.lock(m, [session], locked);
        const rows = await this.sql.query('SELECT COUNT(*) AS n FROM traces WHERE session_id = ?', [session], m);
        n = num(rows[0]?.n);
        counts.set(session, n);
      }
      return n;
    };
    const out: Placement[] = [];
    for (const d of drafts) {
      let p: Placement | null = null;
      if (d.sessionOf) {
        let session = sessionOfId.get(d.sessionOf);
        if (!session) {
          const rows = await this.sql.query('SELECT session_id FROM traces WHERE id = ?', [d.sessionOf], m);
          if (rows[0]) session = String(rows[0].session_id);
        }
        if (session) p = { session, turn: d.turnOverride ?? (await count(session)) + 1 };
      }
      if (!p && d.sessionHeader) {
        p = { session: d.sessionHeader, turn: d.turnOverride ?? (await count(d.sessionHeader)) + 1 };
      }
      if (!p) {
        let parent = d.parentHash ? byReply.get(d.parentHash) : undefined;
        if (!parent && d.parentHash) {
          const rows = await this.sql.query(
            'SELECT session_id, turn FROM traces WHERE reply_hash = ? ORDER BY created_at DESC LIMIT 1',
            [d.parentHash],
            m,
          );
          if (rows[0]) parent = { session: String(rows[0].session_id), turn: num(rows[0].turn) };
        }
        p = parent
          ? { session: parent.session, turn: d.turnOverride ?? parent.turn + 1 }
          : { session: d.id, turn: d.turnOverride ?? 1 };
      }
      const before = counts.get(p.session);
      if (before !== undefined) counts.set(p.session, before + 1);
      else if (p.session === d.id) counts.set(d.id, 1);
      sessionOfId.set(d.id, p.session);
      if (d.replyHash) byReply.set(d.replyHash, p);
      out.push(p);
    }
    return out;
  }

  /** Transaction-scoped advisory locks on sessions, taken in the given order (PostgreSQL). */
  private async lock(m: EntityManager, sessions: readonly string[], locked: Set<string>): Promise<void> {
    const todo = sessions.filter((s) => !locked.has(s));
    if (todo.length === 0) return;
    await this.sql.query(
      `SELECT pg_advisory_xact_lock(${SESSION_LOCK}, hashtext(s)) FROM unnest(?::text[]) WITH ORDINALITY AS x(s, i) ORDER BY i`,
      [todo],
      m,
    );
    for (const s of todo) locked.add(s);
  }

  private async insertTraces(
    m: EntityManager,
    drafts: readonly TraceDraft[],
    placed: readonly Placement[],
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
      params.push(d.id, ...bodyTexts(d));
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

  private async upsertSessions(m: EntityManager, drafts: readonly TraceDraft[], placed: readonly Placement[]): Promise<void> {
    const deltas = new SessionDeltas();
    drafts.forEach((d, i) => deltas.add(d, placed[i]!.session, placed[i]!.turn));
    const list = deltas.list();
    const existing = await this.sql.query(
      `SELECT id, models FROM sessions WHERE id IN (${list.map(() => '?').join(', ')})`,
      list.map((s) => s.id),
      m,
    );
    const stored = new Map(existing.map((r) => [String(r.id), r.models]));
    const params: unknown[] = [];
    for (const s of list) {
      params.push(s.id, s.name, s.first, s.last, s.turns, JSON.stringify(s.mergedModels(stored.get(s.id))), s.tokens);
    }
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

  /** Adds (sign 1) or removes (sign -1) traces from the stats rollup (both levels). */
  private async upsertRollup(m: EntityManager, traces: readonly RollupSource[], sign: number): Promise<void> {
    const delta = new RollupDelta();
    for (const t of traces) delta.add(t, sign);
    for (const { table } of ROLLUP_LEVELS) {
      const rows = delta.rows(table);
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        await this.sql.query(rollupUpsert(table, chunk.length), chunk.flat(), m);
      }
    }
  }

  /**
   * Removes traces (metadata, bodies, search rows, their share of the stats rollup) by id, in one
   * transaction. On SQLite a write comes first, so the transaction holds the write lock before it
   * reads (the trace worker writes the same file).
   */
  async deleteIds(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const inList = ids.map(() => '?').join(', ');
    return this.sql.ds.transaction(async (m) => {
      if (!this.sql.pg) {
        await this.sql.query(`DELETE FROM trace_fts WHERE rowid IN (SELECT rowid FROM traces WHERE id IN (${inList}))`, [...ids], m);
      }
      const found = await this.sql.query(
        `SELECT id, created_at, model, provider, latency_ms, status, prompt_tokens, completion_tokens, total_tokens
         FROM traces WHERE id IN (${inList})`,
        [...ids],
        m,
      );
      if (found.length === 0) return 0;
      await this.sql.query(`DELETE FROM trace_bodies WHERE trace_id IN (${inList})`, [...ids], m);
      if (this.sql.pg) await this.sql.query(`DELETE FROM trace_search WHERE trace_id IN (${inList})`, [...ids], m);
      await this.sql.query(`DELETE FROM traces WHERE id IN (${inList})`, [...ids], m);
      await this.upsertRollup(
        m,
        found.map((r) => ({
          createdAt: num(r.created_at),
          model: columnText(r.model),
          provider: columnText(r.provider),
          latencyMs: num(r.latency_ms),
          status: String(r.status),
          usage: {
            prompt_tokens: num(r.prompt_tokens),
            completion_tokens: num(r.completion_tokens),
            total_tokens: num(r.total_tokens),
          },
        })),
        -1,
      );
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
  prune(cutoff: number): Promise<number> {
    return this.deleteOlderThan(cutoff);
  }

  async deleteOlderThan(cutoff: number, chunk = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await this.sql.query('SELECT id FROM traces WHERE created_at < ? ORDER BY created_at LIMIT ?', [cutoff, chunk]);
      if (rows.length === 0) break;
      total += await this.deleteIds(rows.map((r) => String(r.id)));
      await new Promise((r) => setImmediate(r));
    }
    await this.sql.query('DELETE FROM sessions WHERE last_at < ?', [cutoff]);
    for (const { table, unitMs } of ROLLUP_LEVELS) {
      await this.sql.query(`DELETE FROM ${table} WHERE minute < ?`, [Math.floor(cutoff / unitMs) * unitMs]);
    }
    return total;
  }
}

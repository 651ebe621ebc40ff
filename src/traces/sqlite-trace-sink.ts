/**
 * Trace writes on SQLite through the trace worker's own better-sqlite3 connection to the file the
 * main thread migrated (WAL: the main thread's reads never wait for it). One `BEGIN IMMEDIATE`
 * transaction per batch, so several gateway processes on one file serialize cleanly; prepared
 * statements, one row at a time (cheaper than building large multi-row statements in SQLite).
 * Each trace is threaded into its session, its bodies and search row written, the sessions table
 * updated, all in the same transaction.
 */
import Database from 'better-sqlite3';
import { bodyTexts, type TraceDraft } from './trace-builder';
import type { TraceSink } from './trace-pipeline';
import { ROLLUP_LEVELS, RollupDelta, rollupUpsert, type RollupTable } from './trace-rollup';
import type { StoredTrace } from './trace-store';
import { TRACE_COLUMNS } from './trace-sql';
import { SessionDeltas } from './threading';

interface Placement {
  session: string;
  turn: number;
}

const INSERT_COLUMNS = [...TRACE_COLUMNS, 'reply_hash'];

interface OldRow {
  rowid: number;
  id: string;
  created_at: number;
  model: string | null;
  provider: string | null;
  latency_ms: number;
  status: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export class SqliteTraceSink implements TraceSink {
  private readonly db: Database.Database;
  private readonly insertTrace: Database.Statement;
  private readonly insertBody: Database.Statement;
  private readonly insertFts: Database.Statement;
  private readonly parentOf: Database.Statement;
  private readonly sessionOfTrace: Database.Statement;
  private readonly countSession: Database.Statement;
  private readonly sessionModels: Database.Statement;
  private readonly upsertSession: Database.Statement;
  private readonly upsertRollup: Map<RollupTable, Database.Statement>;
  private readonly findId: Database.Statement;
  private readonly oldest: Database.Statement;
  private readonly removeOne: (rows: readonly OldRow[]) => void;
  private readonly write: (drafts: Iterable<TraceDraft>, storeBodies: boolean) => StoredTrace[];

  constructor(file: string, opts: { busyTimeoutMs?: number } = {}) {
    this.db = new Database(file, { fileMustExist: true });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    this.db.pragma('cache_size = -65536');
    this.db.pragma('temp_store = MEMORY');
    this.db.pragma('mmap_size = 268435456');
    this.insertTrace = this.db.prepare(
      `INSERT INTO traces (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT (id) DO NOTHING`,
    );
    this.insertBody = this.db.prepare(
      'INSERT INTO trace_bodies (trace_id, request, upstream_request, response) VALUES (?, ?, ?, ?) ON CONFLICT (trace_id) DO NOTHING',
    );
    this.insertFts = this.db.prepare('INSERT INTO trace_fts (rowid, body) VALUES (?, ?)');
    this.parentOf = this.db.prepare(
      'SELECT session_id, turn FROM traces WHERE reply_hash = ? ORDER BY created_at DESC LIMIT 1',
    );
    this.sessionOfTrace = this.db.prepare('SELECT session_id FROM traces WHERE id = ?');
    this.countSession = this.db.prepare('SELECT COUNT(*) AS n FROM traces WHERE session_id = ?');
    this.sessionModels = this.db.prepare('SELECT models FROM sessions WHERE id = ?');
    this.upsertSession = this.db.prepare(
      `INSERT INTO sessions (id, name, first_at, last_at, turns, models, total_tokens) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         first_at = MIN(sessions.first_at, excluded.first_at),
         last_at = MAX(sessions.last_at, excluded.last_at),
         turns = MAX(sessions.turns, excluded.turns),
         models = excluded.models,
         total_tokens = sessions.total_tokens + excluded.total_tokens`,
    );
    this.upsertRollup = new Map(ROLLUP_LEVELS.map((l) => [l.table, this.db.prepare(rollupUpsert(l.table))]));
    this.findId = this.db.prepare('SELECT 1 FROM traces WHERE id = ?').pluck();
    this.oldest = this.db.prepare(
      `SELECT rowid, id, created_at, model, provider, latency_ms, status, prompt_tokens, completion_tokens, total_tokens
       FROM traces WHERE created_at < ? ORDER BY created_at LIMIT ?`,
    );
    const delFts = this.db.prepare('DELETE FROM trace_fts WHERE rowid = ?');
    const delBody = this.db.prepare('DELETE FROM trace_bodies WHERE trace_id = ?');
    const delTrace = this.db.prepare('DELETE FROM traces WHERE id = ?');
    const remove = this.db.transaction((rows: readonly OldRow[]) => {
      const rollup = new RollupDelta();
      for (const r of rows) {
        delFts.run(r.rowid);
        delBody.run(r.id);
        delTrace.run(r.id);
        rollup.add(
          {
            createdAt: r.created_at,
            model: r.model,
            provider: r.provider,
            latencyMs: r.latency_ms,
            status: r.status,
            usage: { prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens, total_tokens: r.total_tokens },
          },
          -1,
        );
      }
      for (const [table, stmt] of this.upsertRollup) for (const r of rollup.rows(table)) stmt.run(...r);
    });
    this.removeOne = (rows) => remove.immediate(rows);
    const tx = this.db.transaction((drafts: Iterable<TraceDraft>, storeBodies: boolean) =>
      this.writeBatch(drafts, storeBodies),
    );
    this.write = (drafts, storeBodies) => tx.immediate(drafts, storeBodies);
  }

  insertBatch(drafts: Iterable<TraceDraft>, storeBodies: boolean): StoredTrace[] {
    return this.write(drafts, storeBodies);
  }

  ping(): boolean {
    this.db.prepare('SELECT 1').get();
    return true;
  }

  existing(ids: readonly string[]): Set<string> {
    return new Set(ids.filter((id) => this.findId.get(id) !== undefined));
  }

  /**
   * Retention: deletes traces created before `cutoff` (with bodies, search rows, their share of
   * the rollup) in transactions of `chunk`, letting other work run between them; then sessions
   * and rollup rows with nothing newer.
   */
  async prune(cutoff: number, chunk = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = this.oldest.all(cutoff, chunk) as OldRow[];
      if (rows.length === 0) break;
      this.removeOne(rows);
      total += rows.length;
      await new Promise((r) => setImmediate(r));
    }
    this.db.prepare('DELETE FROM sessions WHERE last_at < ?').run(cutoff);
    for (const { table, unitMs } of ROLLUP_LEVELS) {
      this.db.prepare(`DELETE FROM ${table} WHERE minute < ?`).run(Math.floor(cutoff / unitMs) * unitMs);
    }
    return total;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private writeBatch(drafts: Iterable<TraceDraft>, storeBodies: boolean): StoredTrace[] {
    const byReply = new Map<string, Placement>();
    const sessionOfId = new Map<string, string>();
    const counts = new Map<string, number>();
    const count = (session: string): number => {
      let n = counts.get(session);
      if (n === undefined) {
        n = (this.countSession.get(session) as { n: number }).n;
        counts.set(session, n);
      }
      return n;
    };
    const sessions = new SessionDeltas();
    const newSessions = new Set<string>();
    const rollup = new RollupDelta();
    const out: StoredTrace[] = [];
    for (const d of drafts) {
      let p: Placement | null = null;
      if (d.sessionOf) {
        const local = sessionOfId.get(d.sessionOf);
        const row = local ? null : (this.sessionOfTrace.get(d.sessionOf) as { session_id: string } | undefined);
        const session = local ?? row?.session_id;
        if (session) p = { session, turn: d.turnOverride ?? count(session) + 1 };
      }
      if (!p && d.sessionHeader) {
        p = { session: d.sessionHeader, turn: d.turnOverride ?? count(d.sessionHeader) + 1 };
      }
      if (!p) {
        let parent = d.parentHash ? byReply.get(d.parentHash) : undefined;
        if (!parent && d.parentHash) {
          const row = this.parentOf.get(d.parentHash) as { session_id: string; turn: number } | undefined;
          if (row) parent = { session: row.session_id, turn: row.turn };
        }
        p = parent
          ? { session: parent.session, turn: d.turnOverride ?? parent.turn + 1 }
          : { session: d.id, turn: d.turnOverride ?? 1 };
      }
      // The session's count as stored before this trace (a new session starts empty).
      const fresh = p.session === d.id && !counts.has(d.id);
      if (fresh) newSessions.add(d.id);
      const before = fresh ? 0 : count(p.session);
      const info = this.insertTrace.run(...traceParams(d, p));
      if (info.changes === 0) continue;
      counts.set(p.session, before + 1);
      sessionOfId.set(d.id, p.session);
      if (d.replyHash) byReply.set(d.replyHash, p);
      if (storeBodies) {
        this.insertBody.run(d.id, ...bodyTexts(d));
        this.insertFts.run(info.lastInsertRowid, d.searchText);
      }
      sessions.add(d, p.session, p.turn);
      rollup.add(d);
      out.push({ id: d.id, session_id: p.session, turn: p.turn });
    }
    for (const s of sessions.list()) {
      // A session begun by a trace of this batch has no row yet: nothing to merge.
      const row = newSessions.has(s.id) ? undefined : (this.sessionModels.get(s.id) as { models: string } | undefined);
      this.upsertSession.run(s.id, s.name, s.first, s.last, s.turns, JSON.stringify(s.mergedModels(row?.models)), s.tokens);
    }
    for (const [table, stmt] of this.upsertRollup) for (const r of rollup.rows(table)) stmt.run(...r);
    return out;
  }
}

function traceParams(d: TraceDraft, p: Placement): unknown[] {
  const u = d.usage;
  return [
    d.id,
    d.createdAt,
    p.session,
    p.turn,
    d.endpoint,
    d.keyId,
    d.model,
    d.provider,
    d.upstreamModel,
    d.stream ? 1 : 0,
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
    d.multimodal ? 1 : 0,
    d.tools ? 1 : 0,
    JSON.stringify(d.attempts),
    d.metadata ? JSON.stringify(d.metadata) : null,
    d.replayOf,
    d.replyHash,
  ];
}

/**
 * The writing half of the trace recorder, run inside the trace worker: CallRecords are built into
 * traces (bytes parsed, streams reassembled, bodies redacted, usage estimated) and stored in large
 * transactions. While the database is unavailable the queue holds and writes are retried with
 * backoff; a row the database refuses is isolated and dropped (counted). Progress is reported as
 * the highest batch number whose every trace is stored or dropped.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TraceUsage } from '../common/openai.types';
import { buildTrace, type TraceDraft } from './trace-builder';
import type { StoredTrace } from './trace-store';
import type { BatchReader } from './trace-wire';

/** Where a pipeline writes: the worker's own SQLite connection, or a PostgreSQL pool. */
export interface TraceSink {
  /**
   * Stores the drafts in one transaction. They may be built while they are read (one at a time, so
   * each dies young): read them once, in order.
   */
  insertBatch(drafts: Iterable<TraceDraft>, storeBodies: boolean): StoredTrace[] | Promise<StoredTrace[]>;
  ping(): boolean | Promise<boolean>;
  /** Which of these ids are stored already (batches sent again after a worker restart). */
  existing(ids: readonly string[]): Set<string> | Promise<Set<string>>;
  /** Retention: deletes traces created before `cutoff`; returns how many. */
  prune(cutoff: number): Promise<number>;
}

/** What the main thread learns about a stored trace (per-key accounting may hook here). */
export interface StoredSummary {
  id: string;
  keyId: string | null;
  model: string | null;
  status: string;
  usage: TraceUsage | null;
  session_id: string;
  turn: number;
}

export interface Progress {
  /** Every batch numbered up to this one is done. */
  upTo: number;
  written: number;
  dropped: number;
  stored: StoredSummary[];
}

export type LogLevel = 'warn' | 'error';

export interface PipelineOptions {
  batchSize?: number;
  /**
   * Shortest time between two transactions while fewer than batchSize traces wait: traces gather
   * into larger transactions (each commit rewrites the index pages it touched).
   */
  gatherMs?: number;
  maxBackoffMs?: number;
  /** Send a summary of every stored trace with the progress. */
  summaries?: boolean;
  progress(p: Progress): void;
  log(level: LogLevel, obj: Record<string, unknown>, msg: string): void;
}

/** One trace waiting for its transaction: still packed in its batch until it is built. */
interface Item {
  reader: BatchReader;
  index: number;
  id: string;
  seq: number;
  storeBodies: boolean;
  jsonl: string | null;
  /** Kept after building only where it is needed again after the write (JSONL, summaries). */
  draft?: TraceDraft;
  /** Building it failed (logged once). */
  unbuildable?: boolean;
}

type Fault = 'unavailable' | 'row' | 'unknown';

/** How long a hold lasts after the last batch that asked for it. */
export const HOLD_MS = 100;

const UNAVAILABLE_SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL|NOTADB|CORRUPT|NOMEM|INTERRUPT)/;
const ROW_SQLITE = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/;
/** PostgreSQL SQLSTATE classes: 08 connection, 40 rollback/deadlock, 53 resources, 57 operator, 58 system. */
const UNAVAILABLE_PG = /^(08|40|53|57|58)[0-9A-Z]{3}$/;
/** 22 data exception, 23 integrity constraint. */
const ROW_PG = /^(22|23)[0-9A-Z]{3}$/;

/** Whether an error says the database is unreachable or busy, or that some row is at fault. */
export function faultOf(err: unknown): Fault {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.driverError?.code === 'string' ? e.driverError.code : '';
  if (ROW_SQLITE.test(code) || ROW_PG.test(code)) return 'row';
  if (UNAVAILABLE_SQLITE.test(code) || UNAVAILABLE_PG.test(code) || /^E[A-Z]+$/.test(code)) return 'unavailable';
  const message = err instanceof Error ? err.message : String(err);
  if (/connect|terminat|not (yet )?(initialized|established)|closed|timeout/i.test(message)) return 'unavailable';
  return 'unknown';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class TracePipeline {
  private queue: Item[] = [];
  /** Traces still queued per batch number, in arrival order. */
  private readonly open = new Map<number, number>();
  private lastSeq = -1;
  private reported = -1;
  private written = 0;
  private dropped = 0;
  private stored: StoredSummary[] = [];
  private failures = 0;
  private backoffMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private readonly batchSize: number;
  private readonly maxBackoffMs: number;
  private readonly gatherMs: number;
  private lastWrite = 0;
  /** Until when writes wait for the proxy (0: they do not). */
  private heldUntil = 0;

  constructor(
    private readonly sink: TraceSink,
    private readonly opts: PipelineOptions,
  ) {
    this.batchSize = opts.batchSize ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
    this.gatherMs = opts.gatherMs ?? 100;
  }

  /** Queues one batch from the main thread; traces of a batch sent again are written once. */
  async add(
    reader: BatchReader,
    seq: number,
    settings: { replay: boolean; storeBodies: boolean; jsonl: string | null },
  ): Promise<void> {
    let known: Set<string> | null = null;
    if (settings.replay && reader.count > 0) {
      try {
        known = await this.sink.existing(reader.ids);
      } catch {
        // Unknown: the inserts ignore ids already stored.
      }
    }
    this.lastSeq = Math.max(this.lastSeq, seq);
    let n = 0;
    for (let index = 0; index < reader.count; index++) {
      const id = reader.ids[index] as string;
      if (known?.has(id)) continue;
      this.queue.push({ reader, index, id, seq, storeBodies: settings.storeBodies, jsonl: settings.jsonl });
      n++;
    }
    this.open.set(seq, n);
    this.report();
    this.schedule(this.gatherDelay());
  }

  /**
   * The main thread's event loop is saturated (on: true): transactions wait, for as long as
   * batches keep saying so and at most HOLD_MS after the last one did, so that the worker's CPU
   * and memory traffic do not slow the proxy while it is at full load; the main thread stops
   * asking once its backlog is large or old (trace-writer.ts). A flush or close writes anyway.
   */
  hold(on: boolean): void {
    const was = this.heldUntil;
    this.heldUntil = on ? Date.now() + HOLD_MS : 0;
    if (was > 0 && !on && this.queue.length > 0 && this.timer) {
      // Released: the timer set for the end of the hold is too late now.
      clearTimeout(this.timer);
      this.timer = null;
      this.schedule(this.gatherDelay());
    }
  }

  /** How long to let traces gather before the next transaction. */
  private gatherDelay(): number {
    const held = this.heldUntil - Date.now();
    if (held > 0) return held;
    if (this.queue.length >= this.batchSize) return 0;
    return Math.max(0, this.lastWrite + this.gatherMs - Date.now());
  }

  depth(): number {
    return this.queue.length;
  }

  private schedule(delay: number): void {
    if (this.timer || this.draining) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.draining = this.drain().finally(() => {
        this.draining = null;
        if (this.queue.length > 0) this.schedule(this.backoffMs || this.gatherDelay());
      });
    }, delay);
  }

  /** Drains now (skipping a pending backoff wait) and resolves once the queue is empty or a write fails. */
  async drainNow(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.draining) await this.draining;
    if (this.queue.length === 0) return;
    this.draining = this.drain(true);
    try {
      await this.draining;
    } finally {
      this.draining = null;
      if (this.queue.length > 0) this.schedule(this.backoffMs);
    }
  }

  /** Retries until the queue is empty or `timeoutMs` passed; returns what is left. */
  async flush(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.drainNow();
      if (this.queue.length === 0 || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, Math.min(this.backoffMs || 50, 500, Math.max(1, deadline - Date.now()))));
    }
    if (this.queue.length > 0) this.schedule(this.backoffMs);
    return this.queue.length;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private build(item: Item): TraceDraft | null {
    if (item.draft) return item.draft;
    if (item.unbuildable) return null;
    try {
      const { rec, turn, texts } = item.reader.record(item.index);
      const draft = buildTrace(rec, turn, texts);
      if (this.opts.summaries || item.jsonl !== null) item.draft = draft;
      return draft;
    } catch (err) {
      item.unbuildable = true;
      this.opts.log('error', { error: errorText(err), trace_id: item.id }, 'trace could not be built; dropped');
      return null;
    }
  }

  /** The drafts of a transaction, built as the sink reads them; `built` collects their items. */
  private *drafts(batch: readonly Item[], built: Item[]): Generator<TraceDraft> {
    for (const item of batch) {
      const d = this.build(item);
      if (d) {
        built.push(item);
        yield d;
      }
    }
  }

  /** The next transaction: up to batchSize items sharing the same settings. */
  private take(): Item[] {
    const first = this.queue[0];
    if (!first) return [];
    let n = 1;
    while (n < this.queue.length && n < this.batchSize) {
      const it = this.queue[n]!;
      if (it.storeBodies !== first.storeBodies || it.jsonl !== first.jsonl) break;
      n++;
    }
    return this.queue.slice(0, n);
  }

  /** Writes transactions until the queue is empty (now: or until fewer than batchSize wait), or a write fails. */
  private async drain(now = false): Promise<void> {
    while (this.queue.length > 0) {
      if (!now && this.gatherDelay() > 0) return;
      const batch = this.take();
      this.lastWrite = Date.now();
      const built: Item[] = [];
      const storeBodies = batch[0]!.storeBodies;
      try {
        const stored = await this.sink.insertBatch(this.drafts(batch, built), storeBodies);
        this.done(batch, built, stored);
      } catch (err) {
        if (!(await this.isolate(batch, err))) return;
      }
      this.report();
      // Messages from the main thread (more batches, flush, close) are read between transactions.
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Removes a written transaction's items from the queue; appends their JSONL lines. */
  private done(batch: readonly Item[], kept: readonly Item[], stored: readonly StoredTrace[]): void {
    this.queue.splice(0, batch.length);
    this.backoffMs = 0;
    this.failures = 0;
    const keptIds = new Set(kept.map((k) => k.id));
    for (const item of batch) {
      if (!keptIds.has(item.id)) this.dropped++;
      this.open.set(item.seq, (this.open.get(item.seq) ?? 1) - 1);
    }
    this.written += stored.length;
    const byId = new Map(stored.map((s) => [s.id, s]));
    if (this.opts.summaries) {
      for (const item of kept) {
        const s = byId.get(item.id);
        const d = item.draft;
        if (s && d)
          this.stored.push({
            id: d.id,
            keyId: d.keyId,
            model: d.model,
            status: d.status,
            usage: d.usage,
            session_id: s.session_id,
            turn: s.turn,
          });
      }
    }
    this.appendJsonl(kept, byId);
  }

  /**
   * A failed transaction. A row fault (or a failure repeated while the database still answers)
   * writes each trace alone and drops those still refused; an unavailable database keeps the
   * queue and backs off. Returns whether draining may go on.
   */
  private async isolate(batch: readonly Item[], err: unknown): Promise<boolean> {
    this.failures++;
    const fault = faultOf(err);
    const answers = fault !== 'unavailable' && (fault === 'row' || this.failures >= 2) && (await this.pingQuietly());
    if (answers) {
      const stored: StoredTrace[] = [];
      const kept: Item[] = [];
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i]!;
        const draft = this.build(item);
        if (!draft) continue;
        try {
          stored.push(...(await this.sink.insertBatch([draft], item.storeBodies)));
          kept.push(item);
        } catch (one) {
          if (faultOf(one) === 'unavailable') {
            // The database went away meanwhile: what was written is done, the rest stays queued.
            this.done(batch.slice(0, i), kept, stored);
            return this.backOff(one);
          }
          this.opts.log('error', { error: errorText(one), trace_id: item.id }, 'trace could not be stored; dropped');
        }
      }
      this.done(batch, kept, stored);
      return true;
    }
    return this.backOff(err);
  }

  private backOff(err: unknown): false {
    this.backoffMs = Math.min(this.maxBackoffMs, this.backoffMs ? this.backoffMs * 2 : 100);
    this.opts.log(
      'warn',
      { error: errorText(err), queued: this.queue.length, retry_ms: this.backoffMs },
      'trace batch write failed; will retry',
    );
    return false;
  }

  private async pingQuietly(): Promise<boolean> {
    try {
      return await this.sink.ping();
    } catch {
      return false;
    }
  }

  private appendJsonl(kept: readonly Item[], byId: Map<string, StoredTrace>): void {
    const path = kept[0]?.jsonl;
    if (!path) return;
    const bodies = kept[0]!.storeBodies;
    const lines = kept.map((k) => JSON.stringify(toJsonTrace(k.draft!, byId.get(k.id), bodies))).join('\n') + '\n';
    try {
      mkdirSync(dirname(path), { recursive: true });
      appendFileSync(path, lines);
    } catch (err) {
      this.opts.log('warn', { error: errorText(err) }, 'trace JSONL append failed');
    }
  }

  /** Reports batches that are complete, in order, with the counts since the last report. */
  private report(): void {
    let upTo = this.reported;
    for (const [seq, left] of this.open) {
      if (left > 0) break;
      upTo = seq;
      this.open.delete(seq);
    }
    if (upTo === this.reported && this.written === 0 && this.dropped === 0) return;
    this.reported = upTo;
    const p: Progress = { upTo, written: this.written, dropped: this.dropped, stored: this.stored };
    this.written = 0;
    this.dropped = 0;
    this.stored = [];
    this.opts.progress(p);
  }
}

/** The JSONL line of a stored trace; without bodies when only metadata is kept. */
export function toJsonTrace(
  d: TraceDraft,
  s: { session_id: string; turn: number } | undefined,
  bodies = true,
): Record<string, unknown> {
  const line: Record<string, unknown> = {
    id: d.id,
    created_at: new Date(d.createdAt).toISOString(),
    session_id: s?.session_id ?? d.sessionHeader ?? d.id,
    turn: s?.turn ?? d.turnOverride ?? 1,
    endpoint: d.endpoint,
    key_id: d.keyId,
    model: d.model,
    provider: d.provider,
    upstream_model: d.upstreamModel,
    stream: d.stream,
    status: d.status,
    http_status: d.httpStatus,
    error: d.error,
    latency_ms: d.latencyMs,
    ttft_ms: d.ttftMs,
    overhead_ms: d.overheadMs,
    usage: d.usage,
    request: d.request,
    upstream_request: d.upstreamRequest,
    response: d.response,
    attempts: d.attempts,
    flags: { multimodal: d.multimodal, tools: d.tools },
    metadata: d.metadata,
    replay_of: d.replayOf,
  };
  if (!bodies) {
    delete line.request;
    delete line.upstream_request;
    delete line.response;
  }
  return line;
}

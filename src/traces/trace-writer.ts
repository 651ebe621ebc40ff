/**
 * The recorder behind CALL_RECORDER. `record()` only queues (bounded, O(1), never throws);
 * batches are built (bytes parsed, streams reassembled, bodies redacted) and written off the
 * request path in small transactions with a yield between them, retried with backoff while the
 * database is down, and flushed at shutdown. What a full queue had to drop is counted.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CallRecord, CallRecorder } from '../gateway/call-record';
import { buildTrace, type TraceDraft } from './trace-builder';
import type { StoredTrace, TraceStore } from './trace-store';

export interface TraceWriterOptions {
  enabled: () => boolean;
  storeBodies: () => boolean;
  jsonl: () => string | undefined;
  maxQueue?: number;
  batchSize?: number;
  intervalMs?: number;
  /** Longest wait between retries while the database fails. */
  maxBackoffMs?: number;
  logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Called with each stored trace (per-key accounting may hook here). */
  onStored?: (draft: TraceDraft) => void;
}

interface Item {
  rec: CallRecord;
  turn: number | null;
  draft?: TraceDraft;
}

/** The batch step's writes, as the writer needs them (the store, or a fake in tests). */
export type TraceSink = Pick<TraceStore, 'insertBatch' | 'ping'>;

export class TraceWriter implements CallRecorder {
  private queue: Item[] = [];
  private dropped = 0;
  private written = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private backoffMs = 0;
  private closed = false;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly store: TraceSink,
    private readonly opts: TraceWriterOptions,
  ) {
    this.maxQueue = opts.maxQueue ?? 50_000;
    this.batchSize = Math.min(opts.batchSize ?? 100, 200);
    this.intervalMs = opts.intervalMs ?? 50;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
  }

  record(rec: CallRecord): void {
    try {
      if (this.opts.enabled()) this.enqueue(rec, null);
    } catch {
      this.dropped++;
    }
  }

  /** Queues a trace (ingest: with the caller's turn number); false when the queue is full. */
  enqueue(rec: CallRecord, turn: number | null): boolean {
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return false;
    }
    this.queue.push({ rec, turn });
    this.schedule(this.intervalMs);
    return true;
  }

  queueDepth(): number {
    return this.queue.length;
  }

  droppedTotal(): number {
    return this.dropped;
  }

  writtenTotal(): number {
    return this.written;
  }

  private schedule(delay: number): void {
    if (this.timer || this.draining || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.draining = this.drain().finally(() => {
        this.draining = null;
        if (this.queue.length > 0) this.schedule(this.backoffMs || this.intervalMs);
      });
    }, delay);
    this.timer.unref();
  }

  private build(item: Item): TraceDraft | null {
    if (item.draft) return item.draft;
    try {
      item.draft = buildTrace(item.rec, item.turn);
      return item.draft;
    } catch (err) {
      this.opts.logger.error(
        { error: err instanceof Error ? err.message : String(err), trace_id: item.rec.id },
        'trace could not be built; dropped',
      );
      return null;
    }
  }

  /** Writes queued batches until the queue is empty or the database fails. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.batchSize);
      const drafts: TraceDraft[] = [];
      for (const item of batch) {
        const d = this.build(item);
        if (d) drafts.push(d);
        else this.dropped++;
      }
      try {
        const stored = await this.store.insertBatch(drafts, this.opts.storeBodies());
        this.done(batch.length, drafts, stored);
      } catch (err) {
        if (!(await this.isolate(batch, drafts, err))) return;
      }
      await this.appendPending();
      // Let requests run between batches.
      await new Promise((r) => setImmediate(r));
    }
  }

  private pendingJsonl: Array<{ draft: TraceDraft; stored: StoredTrace | undefined }> = [];

  private done(count: number, drafts: TraceDraft[], stored: StoredTrace[]): void {
    this.queue.splice(0, count);
    this.written += stored.length;
    this.backoffMs = 0;
    this.failures = 0;
    const byId = new Map(stored.map((s) => [s.id, s]));
    for (const d of drafts) {
      this.pendingJsonl.push({ draft: d, stored: byId.get(d.id) });
      this.opts.onStored?.(d);
    }
  }

  /**
   * A failed batch: when the database answers, some row is at fault, so each trace is written
   * alone and those that still fail are dropped (counted). When it does not answer, the batch
   * stays queued and the writer backs off. Returns whether draining may go on.
   */
  private async isolate(batch: Item[], drafts: TraceDraft[], err: unknown): Promise<boolean> {
    this.failures++;
    const message = err instanceof Error ? err.message : String(err);
    if (this.failures >= 2 && (await this.store.ping())) {
      const stored: StoredTrace[] = [];
      const kept: TraceDraft[] = [];
      for (const d of drafts) {
        try {
          stored.push(...(await this.store.insertBatch([d], this.opts.storeBodies())));
          kept.push(d);
        } catch (one) {
          this.dropped++;
          this.opts.logger.error(
            { error: one instanceof Error ? one.message : String(one), trace_id: d.id },
            'trace could not be stored; dropped',
          );
        }
      }
      this.done(batch.length, kept, stored);
      return true;
    }
    this.backoffMs = Math.min(this.maxBackoffMs, this.backoffMs ? this.backoffMs * 2 : 100);
    this.opts.logger.warn(
      { error: message, queued: this.queue.length, retry_ms: this.backoffMs },
      'trace batch write failed; will retry',
    );
    return false;
  }

  private async appendPending(): Promise<void> {
    const path = this.opts.jsonl();
    const bodies = this.opts.storeBodies();
    const pending = this.pendingJsonl;
    this.pendingJsonl = [];
    if (!path || pending.length === 0) return;
    const lines = pending.map((p) => JSON.stringify(toJsonTrace(p.draft, p.stored, bodies))).join('\n') + '\n';
    try {
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, lines);
    } catch (err) {
      this.opts.logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'trace JSONL append failed');
    }
  }

  /** Writes everything queued; gives up (keeping the queue) after `timeoutMs` of failures. */
  async flush(timeoutMs = 15_000): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.draining) await this.draining;
      if (this.queue.length === 0) break;
      if (Date.now() >= deadline) {
        this.opts.logger.error({ queued: this.queue.length }, 'traces could not be written before shutdown');
        break;
      }
      this.draining = this.drain();
      await this.draining;
      this.draining = null;
      if (this.queue.length > 0) await new Promise((r) => setTimeout(r, Math.min(this.backoffMs || 50, 500)));
    }
    if (!this.closed && this.queue.length > 0) this.schedule(this.backoffMs || this.intervalMs);
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
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

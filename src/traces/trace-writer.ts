/**
 * The recorder behind CALL_RECORDER: `record()` only queues (bounded); batches are built and
 * written off the request path, retried with backoff while the database is down, and flushed
 * at shutdown. What a full queue had to drop is counted.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CallRecord, CallRecorder } from '../gateway/call-record';
import { buildTrace, type TraceDraft } from './trace-builder';
import type { TraceStore } from './trace-store';

export interface TraceWriterOptions {
  enabled: () => boolean;
  storeBodies: () => boolean;
  jsonl: () => string | undefined;
  maxQueue?: number;
  batchSize?: number;
  intervalMs?: number;
  logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Called with each stored trace's key id and usage (per-key accounting may hook here). */
  onStored?: (draft: TraceDraft) => void;
}

export class TraceWriter implements CallRecorder {
  private queue: CallRecord[] = [];
  private dropped = 0;
  private written = 0;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private backoffMs = 0;
  private closed = false;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly intervalMs: number;

  constructor(
    private readonly store: TraceStore,
    private readonly opts: TraceWriterOptions,
  ) {
    this.maxQueue = opts.maxQueue ?? 50_000;
    this.batchSize = opts.batchSize ?? 100;
    this.intervalMs = opts.intervalMs ?? 100;
  }

  record(rec: CallRecord): void {
    if (!this.opts.enabled()) return;
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(rec);
    this.schedule(this.intervalMs);
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

  /** Writes queued batches until the queue is empty or the database fails. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.batchSize);
      const drafts: TraceDraft[] = [];
      for (const rec of batch) {
        try {
          drafts.push(buildTrace(rec));
        } catch (err) {
          this.opts.logger.error({ err, trace_id: rec.id }, 'trace could not be built; kept as metadata only');
        }
      }
      try {
        const stored = await this.store.insertBatch(drafts, this.opts.storeBodies());
        this.queue.splice(0, batch.length);
        this.written += stored.length;
        this.backoffMs = 0;
        await this.appendJsonl(drafts, stored);
        for (const d of drafts) this.opts.onStored?.(d);
      } catch (err) {
        this.backoffMs = Math.min(5000, this.backoffMs ? this.backoffMs * 2 : 200);
        this.opts.logger.warn(
          { error: err instanceof Error ? err.message : String(err), queued: this.queue.length, retry_ms: this.backoffMs },
          'trace batch write failed; will retry',
        );
        return;
      }
      // Let requests run between batches.
      await new Promise((r) => setImmediate(r));
    }
  }

  private async appendJsonl(drafts: TraceDraft[], stored: Array<{ id: string; session_id: string; turn: number }>): Promise<void> {
    const path = this.opts.jsonl();
    if (!path) return;
    const byId = new Map(stored.map((s) => [s.id, s]));
    const lines = drafts.map((d) => JSON.stringify(toJsonTrace(d, byId.get(d.id)))).join('\n') + '\n';
    try {
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, lines);
    } catch (err) {
      this.opts.logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'trace JSONL append failed');
    }
  }

  /** Writes everything queued; bounded by `timeoutMs`. */
  async flush(timeoutMs = 15_000): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.draining) await this.draining;
      if (this.queue.length === 0) return;
      this.draining = this.drain();
      await this.draining;
      this.draining = null;
      if (this.queue.length > 0) await new Promise((r) => setTimeout(r, Math.min(this.backoffMs || 50, 500)));
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}

export function toJsonTrace(d: TraceDraft, s: { session_id: string; turn: number } | undefined): Record<string, unknown> {
  return {
    id: d.id,
    created_at: new Date(d.createdAt).toISOString(),
    session_id: s?.session_id ?? d.sessionHeader ?? d.id,
    turn: s?.turn ?? 1,
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
}

/**
 * The recorder behind CALL_RECORDER, on the main thread. `record()` only queues (bounded, O(1),
 * never throws). Every `intervalMs` the queued records go to the trace worker in one message
 * (src/traces/trace-wire.ts), where they are built and written (src/traces/trace-pipeline.ts).
 * Records stay held here until the worker reports them stored, so a worker that dies is restarted
 * and handed them again; the bound counts them too, and what a full queue had to drop is counted.
 * `flush()` (shutdown) waits until every record is stored or the time is up.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { CallRecord, CallRecorder } from '../gateway/call-record';
import type { StoredSummary } from './trace-pipeline';
import { BatchRings } from './batch-ring';
import { BatchBuilder, packBatch, type PackedBatch } from './trace-wire';
import type { FromWorker, LinkFactory, WriterLink } from './trace-worker-link';

export { toJsonTrace } from './trace-pipeline';

export interface TraceWriterOptions {
  enabled: () => boolean;
  storeBodies: () => boolean;
  jsonl: () => string | undefined;
  /** Most records held (queued here and not yet stored); past it, or past `maxQueueBytes`, records are dropped and counted. */
  maxQueue?: number;
  /** Most packed bytes held. */
  maxQueueBytes?: number;
  /** How long records gather before they are sent to the worker in one message. */
  intervalMs?: number;
  /** Shared memory for batches in flight, in rings of this size (batch-ring.ts); 0: a buffer per batch. */
  ringBytes?: number;
  logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Called with each stored trace (per-key accounting may hook here). */
  onStored?: (t: StoredSummary) => void;
  /** Share of the time the event loop was busy while the batch now sent gathered (tests); default: perf_hooks. */
  loopBusy?: () => number;
}


const MAX_RESTART_MS = 5000;
/** One ring holds about a second of batches at 10,000 traces/s; a backlog gets more rings. */
const DEFAULT_RING_BYTES = 32 * 1024 * 1024;
/**
 * A backlog of a few seconds at full speed (a saturated proxy starves the trace worker, which
 * yields to it) is held rather than dropped: 200,000 records or 256 MiB, whichever comes first.
 */
const DEFAULT_MAX_QUEUE = 200_000;
const DEFAULT_MAX_QUEUE_BYTES = 256 * 1024 * 1024;
/**
 * While the event loop is busier than this (over the time a batch gathered), the worker is asked
 * to hold its writes (a saturated proxy loses throughput to a worker running beside it, even a
 * niced one: they share caches, memory bandwidth and, on small machines, cores) — as long as the backlog stays under half the
 * queue's bounds and its oldest batch is younger than HOLD_MAX_MS. Past either, writes go on.
 */
const HOLD_BUSY = 0.9;
/**
 * Once asked, the hold goes on while the busy share, averaged over the last few batches (each
 * batch weighs HOLD_WEIGHT), stays at or above HOLD_KEEP: a proxy at full load still has batches
 * that read 0.3–0.8 (its load generator or upstream stalled a moment), and each one that ended
 * the hold had the worker write its whole backlog beside the saturated proxy.
 */
const HOLD_KEEP = 0.6;
const HOLD_WEIGHT = 0.3;
const HOLD_MAX_MS = 5000;

/**
 * The share of time the event loop was busy over a span that `mark()` opens (the first record of
 * a batch) and `busy()` closes (its send): the span is the batch's own, so the first batch of a
 * burst that follows an idle spell is judged by the burst, not by the idle time before it.
 */
interface LoopMeter {
  mark(): void;
  busy(): number;
}

function loopMeter(): LoopMeter {
  let from: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    mark: () => {
      from = performance.eventLoopUtilization();
    },
    busy: () => {
      const now = performance.eventLoopUtilization();
      const share = performance.eventLoopUtilization(now, from).utilization;
      from = now;
      return share;
    },
  };
}
/** Most records in one message: cloning a message is main-thread work, so bursts are spread out. */
const MAX_POST = 500;

export class TraceWriter implements CallRecorder {
  /** Records since the last batch left, packed as they came (trace-wire.ts); reused batch after batch. */
  private readonly pending = new BatchBuilder();
  /** Sent to the worker and not yet reported done, oldest first. */
  private readonly sent: Array<PackedBatch & { sentAt: number }> = [];
  private readonly rings: BatchRings | null;
  private sentCount = 0;
  private sentBytes = 0;
  private seq = 0;
  private dropped = 0;
  private written = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAtOnce = false;
  private link: WriterLink | null = null;
  private restartMs = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private closing: { done: () => void } | null = null;
  private waiters: Array<() => void> = [];
  private readonly maxQueue: number;
  private readonly maxQueueBytes: number;
  private readonly intervalMs: number;
  private readonly loop: LoopMeter;
  /** In a saturated spell (the hold asked for), and the busy share averaged over its batches. */
  private holding = false;
  private busyAverage = 0;

  constructor(
    private readonly connect: LinkFactory,
    private readonly opts: TraceWriterOptions,
  ) {
    this.maxQueue = opts.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.maxQueueBytes = opts.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    this.intervalMs = opts.intervalMs ?? 20;
    const given = opts.loopBusy;
    this.loop = given ? { mark: () => undefined, busy: given } : loopMeter();
    const ringBytes = opts.ringBytes ?? DEFAULT_RING_BYTES;
    // A ring made ahead of need has its pages faulted in by the worker, not by the packing here.
    this.rings =
      ringBytes > 0
        ? new BatchRings(ringBytes, Math.max(ringBytes, this.maxQueueBytes), undefined, undefined, (buffer) =>
            this.link?.post({ type: 'prefault', buffer }),
          )
        : null;
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
    if (
      this.pending.count + this.sentCount >= this.maxQueue ||
      this.pending.byteLength + this.sentBytes >= this.maxQueueBytes
    ) {
      this.dropped++;
      return false;
    }
    if (this.pending.count === 0) this.loop.mark();
    if (!this.pending.add({ rec, turn }, this.onSkip)) return true;
    // A burst leaves in batches of MAX_POST, one per turn of the event loop.
    if (this.pending.count >= MAX_POST) this.sendSoon(0);
    else this.sendSoon(this.intervalMs);
    return true;
  }

  /** Arms the send timer; a timer already due at once (a full batch) is left as it is. */
  private sendSoon(delayMs: number): void {
    if (this.timer && (delayMs > 0 || this.timerAtOnce)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAtOnce = delayMs === 0;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAtOnce = false;
      this.send();
    }, delayMs);
    this.timer.unref();
  }

  private readonly onSkip = (rec: CallRecord, err: unknown): void => {
    this.dropped++;
    this.opts.logger.error(
      { error: err instanceof Error ? err.message : String(err), trace_id: rec.id },
      'trace could not be packed; dropped',
    );
  };

  /**
   * Starts the worker now (it also starts on the first batch), so the first trace does not wait
   * for it, and has it fault the first ring's pages in before the first batch is packed there.
   */
  start(): void {
    if (this.ensureLink()) this.rings?.warm();
  }

  private isReady = false;
  private readyWaiters: Array<() => void> = [];

  /**
   * Resolves once the worker runs (true), or after `timeoutMs` without it (false): the app waits for
   * it at start, so a trace of the first call is as quick to read as any other.
   */
  ready(timeoutMs = 15_000): Promise<boolean> {
    if (this.isReady) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Retention pass in the worker: deletes traces created before `cutoff`, off the main thread. */
  prune(cutoff: number): void {
    this.ensureLink()?.post({ type: 'prune', cutoff });
  }

  /** Traces recorded and not yet stored (here or in the worker). */
  queueDepth(): number {
    return this.pending.count + this.sentCount;
  }

  droppedTotal(): number {
    return this.dropped;
  }

  writtenTotal(): number {
    return this.written;
  }

  private ensureLink(): WriterLink | null {
    if (this.link || this.restartTimer) return this.link;
    try {
      this.link = this.connect({
        summaries: this.opts.onStored !== undefined,
        message: (m) => this.onMessage(m),
        exit: (err) => this.onExit(err),
      });
    } catch (err) {
      this.onExit(err instanceof Error ? err : new Error(String(err)));
    }
    return this.link;
  }

  private post(batch: PackedBatch, replay = false, hold = false): void {
    // Not transferred: the packed batch stays here until the worker reports it stored. Its bytes
    // are shared memory (a ring's region or a buffer of its own): posting shares, never copies.
    this.ensureLink()?.post({ type: 'batch', bytes: batch.bytes, replay, hold });
  }

  /** Whether the worker should hold its writes now (see HOLD_BUSY and HOLD_KEEP). */
  private holdWrites(now: number): boolean {
    const share = this.loop.busy();
    if (this.holding) {
      this.busyAverage += HOLD_WEIGHT * (share - this.busyAverage);
      this.holding = this.busyAverage >= HOLD_KEEP;
    } else {
      this.busyAverage = share;
      this.holding = share >= HOLD_BUSY;
    }
    if (!this.holding) return false;
    const oldest = this.sent[0];
    return (
      (oldest === undefined || now - oldest.sentAt < HOLD_MAX_MS) &&
      this.queueDepth() < this.maxQueue / 2 &&
      this.pending.byteLength + this.sentBytes < this.maxQueueBytes / 2
    );
  }

  /** Sends what is pending as one batch. */
  private send(): void {
    if (this.pending.count === 0) return;
    let storeBodies = true;
    let jsonl: string | null = null;
    try {
      storeBodies = this.opts.storeBodies();
      jsonl = this.opts.jsonl() ?? null;
    } catch {
      // config not readable: defaults
    }
    const now = Date.now();
    const hold = this.holdWrites(now);
    const packed = packBatch(this.pending.take(++this.seq, { replay: false, storeBodies, jsonl }), this.alloc);
    this.pending.reset();
    const batch = { ...packed, sentAt: now };
    this.sent.push(batch);
    this.sentCount += batch.count;
    this.sentBytes += batch.bytes.byteLength;
    try {
      this.post(batch, false, hold);
    } catch (err) {
      // Kept in `sent`: handed over again when the worker is back.
      this.opts.logger.error({ error: err instanceof Error ? err.message : String(err) }, 'trace batch not sent');
    }
  }

  /** A region of a ring, or shared memory of the batch's own when the rings are full. */
  private readonly alloc = (size: number): Buffer =>
    this.rings?.reserve(size) ?? Buffer.from(new SharedArrayBuffer(size));

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'ready': {
        const waiting = this.readyWaiters;
        this.readyWaiters = [];
        this.isReady = true;
        for (const w of waiting) w();
        return;
      }
      case 'progress': {
        this.restartMs = 0;
        this.written += m.written;
        this.dropped += m.dropped;
        while (this.sent.length > 0 && this.sent[0]!.seq <= m.upTo) {
          const done = this.sent.shift()!;
          this.sentCount -= done.count;
          this.sentBytes -= done.bytes.byteLength;
          // A batch in shared memory of its own is not a ring's: release leaves it alone.
          this.rings?.release(done.bytes);
        }
        if (this.opts.onStored) for (const s of m.stored) this.callOnStored(s);
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
        return;
      }
      case 'log':
        this.opts.logger[m.level](m.obj, m.msg);
        return;
      case 'pruned':
        if (m.error) this.opts.logger.warn({ error: m.error }, 'trace retention pass failed');
        return;
      case 'closed':
        if (m.left > 0) this.opts.logger.error({ queued: m.left }, 'traces could not be written before shutdown');
        return;
    }
  }

  private callOnStored(s: StoredSummary): void {
    try {
      this.opts.onStored?.(s);
    } catch (err) {
      this.opts.logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'onStored hook failed');
    }
  }

  /** The worker ended. Asked to (closing): done. Otherwise restart it and hand it what is unwritten. */
  private onExit(error: Error | null): void {
    this.link = null;
    if (this.closing) {
      this.closing.done();
      return;
    }
    if (!error) return;
    this.restartMs = Math.min(MAX_RESTART_MS, this.restartMs ? this.restartMs * 2 : 50);
    this.opts.logger.error(
      { error: error.message, queued: this.queueDepth(), restart_ms: this.restartMs },
      'trace worker stopped; restarting it',
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.ensureLink()) return;
      for (const b of this.sent) this.post(b, true);
    }, this.restartMs);
    this.restartTimer.unref();
  }

  /**
   * Makes the worker exit at once, dropping what it holds, as a crash would; the writer restarts
   * it and hands it every unwritten record again.
   */
  abortWorker(): void {
    this.link?.post({ type: 'exit' });
  }

  /** Writes everything queued; gives up (keeping the queue) after `timeoutMs`. */
  async flush(timeoutMs = 15_000): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.send();
    if (this.sent.length === 0) return;
    this.ensureLink()?.post({ type: 'flush' });
    const deadline = Date.now() + timeoutMs;
    while (this.sent.length > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(250, Math.max(1, deadline - Date.now())));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    if (this.sent.length > 0) {
      this.opts.logger.error({ queued: this.queueDepth() }, 'traces could not be written before shutdown');
    }
    if (this.closed) await this.shutLink();
  }

  /** Flushes, then closes the worker (and its database connection). */
  async close(timeoutMs = 15_000): Promise<void> {
    this.closed = true;
    await this.flush(timeoutMs);
    await this.shutLink();
  }

  private async shutLink(): Promise<void> {
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    const link = this.link;
    if (!link) return;
    await new Promise<void>((resolve) => {
      // A worker that does not answer (a database stuck past its busy timeout) is left to end
      // with the process: stopping it from here could abort the process (see trace-worker-link).
      const t = setTimeout(() => {
        this.opts.logger.error({}, 'trace worker did not close in time; leaving it');
        resolve();
      }, 10_000);
      this.closing = {
        done: () => {
          clearTimeout(t);
          resolve();
        },
      };
      link.post({ type: 'close', timeoutMs: 1000 });
    });
    this.closing = null;
    this.link = null;
  }
}

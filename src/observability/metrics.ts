/** Prometheus metrics (SPEC §7); every metric's HELP/TYPE is present from start. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TraceUsage } from '../common/openai.types';
import type { CallRecord } from '../gateway/call-record';

interface RequestLabels {
  model: string;
  provider: string;
  status: string;
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The parts of prom-client's (v15) unlabelled histogram state that a bulk flush adds to. */
interface HistogramState {
  hashMap: Record<string, { bucketValues: Record<number, number>; sum: number; count: number } | undefined>;
}

/**
 * Observations of an unlabelled histogram counted in plain numbers (one array slot per bucket)
 * and added to the prom-client histogram when /metrics is read: prom-client's `observe` checks
 * and hashes labels on every call, which the hot path should not pay for.
 */
export class PendingHistogram {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    this.sum += value;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= (b[i] as number)) {
        this.counts[i]!++;
        return;
      }
    }
  }

  /** Adds what was observed since the last flush to `h` (its buckets must be `bounds`). */
  flushInto(h: Histogram): void {
    if (this.count === 0) return;
    const state = h as unknown as HistogramState;
    if (!state.hashMap['']) h.zero({});
    const target = state.hashMap[''];
    if (!target) return;
    for (let i = 0; i < this.bounds.length; i++) {
      const bound = this.bounds[i] as number;
      target.bucketValues[bound] = (target.bucketValues[bound] ?? 0) + (this.counts[i] as number);
      this.counts[i] = 0;
    }
    target.sum += this.sum;
    target.count += this.count;
    this.sum = 0;
    this.count = 0;
  }
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'gateway_requests_total',
    help: 'Calls on /v1 by requested model, provider and outcome.',
    labelNames: ['model', 'provider', 'status'] as const,
    registers: [this.registry],
    collect: () => this.flushRequests(),
  });
  private readonly pendingDuration = new PendingHistogram(DURATION_BUCKETS);
  private readonly pendingTtft = new PendingHistogram(DURATION_BUCKETS);
  private readonly duration: Histogram = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'Time from request arrival to the end of the response.',
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
    collect: () => this.pendingDuration.flushInto(this.duration),
  });
  private readonly ttft: Histogram = new Histogram({
    name: 'gateway_ttft_seconds',
    help: 'Time to the first streamed byte.',
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
    collect: () => this.pendingTtft.flushInto(this.ttft),
  });
  private readonly tokens = new Counter({
    name: 'gateway_tokens_total',
    help: 'Tokens by type (prompt, completion, cached, reasoning).',
    labelNames: ['type'] as const,
    registers: [this.registry],
    collect: () => this.flushTokens(),
  });
  private readonly upstreamErrors = new Counter({
    name: 'gateway_upstream_errors_total',
    help: 'Failed upstream attempts by provider and HTTP status or error kind.',
    labelNames: ['provider', 'code'] as const,
    registers: [this.registry],
  });
  private readonly fallbacks = new Counter({
    name: 'gateway_fallbacks_total',
    help: 'Fallback models tried after every target of a route failed.',
    registers: [this.registry],
  });
  private readonly activeStreams = new Gauge({
    name: 'gateway_active_streams',
    help: 'Streams being sent to clients now.',
    registers: [this.registry],
  });
  private readonly imageCache = new Counter({
    name: 'gateway_image_description_cache_total',
    help: 'image_to_text description look-ups by result (hit, miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private queue: { depth: () => number; dropped: () => number } = { depth: () => 0, dropped: () => 0 };

  constructor() {
    const queue = (): { depth: () => number; dropped: () => number } => this.queue;
    new Gauge({
      name: 'gateway_trace_queue_depth',
      help: 'Traces waiting to be written.',
      registers: [this.registry],
      collect() {
        this.set(queue().depth());
      },
    });
    new Counter({
      name: 'gateway_traces_dropped_total',
      help: 'Traces dropped because the bounded queue was full.',
      registers: [this.registry],
      collect() {
        const d = queue().dropped();
        const self = this as unknown as { hashMap: Record<string, { value: number }> };
        const current = self.hashMap['']?.value ?? 0;
        if (d > current) this.inc(d - current);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'gateway_process_' });
    this.tokens.inc({ type: 'prompt' }, 0);
    this.tokens.inc({ type: 'completion' }, 0);
    this.fallbacks.inc(0);
  }

  /** The trace writer's queue, read when /metrics is scraped. */
  bindTraceQueue(queue: { depth: () => number; dropped: () => number }): void {
    this.queue = queue;
  }

  streamStarted(): void {
    this.activeStreams.inc();
  }

  streamEnded(): void {
    this.activeStreams.dec();
  }

  fallback(): void {
    this.fallbacks.inc();
  }

  upstreamError(provider: string, code: string): void {
    this.upstreamErrors.inc({ provider, code });
  }

  imageCacheHit(): void {
    this.imageCache.inc({ result: 'hit' });
  }

  imageCacheMiss(): void {
    this.imageCache.inc({ result: 'miss' });
  }

  /**
   * Per-call counts are kept in plain numbers and handed to prom-client when /metrics is read
   * (its `inc` hashes and validates labels on every call). Bounded: models come from callers.
   */
  private readonly pendingRequests = new Map<string, { labels: RequestLabels; n: number }>();
  private readonly pendingTokens = { prompt: 0, completion: 0, cached: 0, reasoning: 0 };

  /** One finished call (tokens are counted when its usage is known: see `tokensOf`). */
  observe(rec: CallRecord): void {
    const model = rec.model ?? '';
    const provider = rec.provider ?? '';
    const key = `${model}\u0000${provider}\u0000${rec.status}`;
    const entry = this.pendingRequests.get(key);
    if (entry) entry.n++;
    else {
      if (this.pendingRequests.size >= 5000) this.flushRequests();
      this.pendingRequests.set(key, { labels: { model, provider, status: rec.status }, n: 1 });
    }
    this.pendingDuration.observe(rec.latencyMs / 1000);
    if (rec.ttftMs !== null) this.pendingTtft.observe(rec.ttftMs / 1000);
  }

  tokensOf(u: TraceUsage | null): void {
    if (u) {
      const t = this.pendingTokens;
      t.prompt += u.prompt_tokens;
      t.completion += u.completion_tokens;
      t.cached += u.cached_tokens;
      t.reasoning += u.reasoning_tokens;
    }
  }

  private flushRequests(): void {
    for (const [key, e] of this.pendingRequests) {
      if (e.n > 0) this.requests.inc(e.labels, e.n);
      if (this.pendingRequests.size > 1000) this.pendingRequests.delete(key);
      else e.n = 0;
    }
  }

  private flushTokens(): void {
    const t = this.pendingTokens;
    for (const type of ['prompt', 'completion', 'cached', 'reasoning'] as const) {
      if (t[type] > 0) this.tokens.inc({ type }, t[type]);
      t[type] = 0;
    }
  }
}

/**
 * The OpenTelemetry observer. observe() only queues the finished CallRecord (O(1), bounded,
 * sampled by trace id). A timer turns the queue into one batch of plain SpanInputs — error texts
 * scrubbed, providers resolved, response bytes packed into one arena — and posts it to the span
 * worker thread, which builds the spans and exports them (span-builder.ts). Span building, OTLP
 * serialization and the export's HTTP thus run off the event loop that serves calls. Shutdown
 * posts what is queued and waits (bounded) until the worker has sent every span.
 */
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { CallRecord } from '../../gateway/call-record';
import type { CallObserver } from '../call-observers';
import type { SecretScrubber } from '../secrets';
import type { FromSpanWorker, SpanWorkerInit, ToSpanWorker } from './otel-worker';
import type { OtelSettings } from './otel-settings';
import { SpanBuilder } from './span-builder';
import { packBatch, toSpanInput, type ProviderInfo } from './span-input';

export interface OtelCallsOptions {
  settings: OtelSettings;
  provider: (id: string) => ProviderInfo | undefined;
  scrubber: SecretScrubber;
  logger: { warn(obj: object, msg: string): void };
  /** Records waiting to become spans; beyond it they are dropped and counted. */
  maxQueue?: number;
  /** How often queued records are handed to the span builder. */
  buildIntervalMs?: number;
  /** BatchSpanProcessor delay between exports (default 1000 ms, or OTEL_BSP_SCHEDULE_DELAY). */
  exportDelayMs?: number;
  /** Longest wait for the last export at shutdown. */
  shutdownTimeoutMs?: number;
  /** Build and export in this thread instead of a worker (benches); required with `exporter`. */
  inThread?: boolean;
  /** Another exporter instead of OTLP/HTTP (in-thread only). */
  exporter?: SpanExporter;
}

/** Trace-id ratio sampling: the first 8 hex digits of the id (a random UUID) against the ratio. */
export function sampled(id: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  const n = Number.parseInt(id.slice(0, 8), 16);
  return Number.isFinite(n) && n / 0x1_0000_0000 < ratio;
}

/** The worker's script: compiled JavaScript, or TypeScript through ts-node (tests, benches). */
function workerScript(): { script: string; eval: boolean } {
  const file = join(__dirname, `otel-worker${extname(__filename)}`);
  if (!file.endsWith('.ts')) return { script: file, eval: false };
  const tsNode = require.resolve('ts-node/register/transpile-only');
  return {
    script: `if (!require.extensions['.ts']) require(${JSON.stringify(tsNode)}); require(${JSON.stringify(file)});`,
    eval: true,
  };
}

interface Sink {
  post(msg: Extract<ToSpanWorker, { type: 'spans' }>): void;
  close(): Promise<void>;
}

function threadSink(opts: OtelCallsOptions): Sink {
  const builder = new SpanBuilder({
    settings: opts.settings,
    warn: (obj, msg) => opts.logger.warn(obj, msg),
    ...(opts.exportDelayMs !== undefined ? { exportDelayMs: opts.exportDelayMs } : {}),
    ...(opts.exporter ? { exporter: opts.exporter } : {}),
  });
  return { post: (m) => builder.build(m.inputs, m.arena), close: () => builder.shutdown() };
}

function workerSink(opts: OtelCallsOptions): Sink {
  const { script, eval: isEval } = workerScript();
  const init: SpanWorkerInit = {
    settings: opts.settings,
    ...(opts.exportDelayMs !== undefined ? { exportDelayMs: opts.exportDelayMs } : {}),
  };
  const worker = new Worker(script, { eval: isEval, workerData: init });
  worker.unref();
  let alive = true;
  let closed: (() => void) | null = null;
  worker.on('message', (m: FromSpanWorker) => {
    if (m.type === 'warn') opts.logger.warn(m.obj, m.msg);
    else closed?.();
  });
  worker.on('error', (err) => {
    opts.logger.warn(
      { error: err.message },
      'OpenTelemetry span worker failed; spans are no longer exported',
    );
  });
  worker.on('exit', () => {
    alive = false;
    closed?.();
  });
  return {
    post: (m) => {
      if (alive) worker.postMessage(m, [m.arena]);
    },
    close: async () => {
      if (!alive) return;
      worker.ref(); // keep the process up until the last spans are sent
      await new Promise<void>((done) => {
        closed = done;
        worker.postMessage({ type: 'shutdown' } satisfies ToSpanWorker);
      });
      await worker.terminate();
    },
  };
}

export class OtelCalls implements CallObserver {
  private queue: CallRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private dropped = 0;
  private closed = false;
  private readonly sink: Sink;
  private readonly maxQueue: number;
  private readonly buildIntervalMs: number;

  constructor(private readonly opts: OtelCallsOptions) {
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.buildIntervalMs = opts.buildIntervalMs ?? 200;
    this.sink = opts.inThread || opts.exporter ? threadSink(opts) : workerSink(opts);
  }

  observe(rec: CallRecord): void {
    if (this.closed || !sampled(rec.id, this.opts.settings.ratio)) return;
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(rec);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.buildIntervalMs);
      this.timer.unref();
    }
  }

  /** Records dropped because the span queue was full. */
  droppedTotal(): number {
    return this.dropped;
  }

  private flush(): void {
    this.timer = null;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const items = [];
    for (const rec of batch) {
      try {
        items.push(toSpanInput(rec, this.opts.provider, this.opts.scrubber));
      } catch (err) {
        this.opts.logger.warn(
          { trace_id: rec.id, error: err instanceof Error ? err.message : String(err) },
          'span could not be built',
        );
      }
    }
    const { inputs, arena } = packBatch(items);
    this.sink.post({ type: 'spans', inputs, arena });
  }

  /** Hands over what is queued and waits (bounded) until every span is sent. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.flush();
    const timeoutMs = this.opts.shutdownTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((done) => {
      timer = setTimeout(() => {
        this.opts.logger.warn({ timeout_ms: timeoutMs }, 'OpenTelemetry flush at shutdown timed out');
        done();
      }, timeoutMs);
      timer.unref();
    });
    await Promise.race([this.sink.close().catch(() => undefined), timeout]);
    if (timer) clearTimeout(timer);
  }
}

/**
 * The OpenTelemetry observer: finished CallRecords are queued (O(1), bounded) and turned into
 * spans on a timer, off the request path; a BatchSpanProcessor sends them with the official
 * OTLP/HTTP exporter. Shutdown builds what is queued and flushes every span.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { CallRecord } from '../../gateway/call-record';
import type { CallObserver } from '../call-observers';
import type { SecretScrubber } from '../secrets';
import { ChosenTraceIds, emitCallSpans, type ProviderInfo } from './call-spans';
import type { OtelSettings } from './otel-settings';

export interface OtelCallsOptions {
  settings: OtelSettings;
  provider: (id: string) => ProviderInfo | undefined;
  scrubber: SecretScrubber;
  logger: { warn(obj: object, msg: string): void };
  /** Records waiting to become spans; beyond it they are dropped and counted. */
  maxQueue?: number;
  /** How often queued records become spans. */
  buildIntervalMs?: number;
  /** BatchSpanProcessor delay between exports (default 1000 ms, or OTEL_BSP_SCHEDULE_DELAY). */
  exportDelayMs?: number;
  /** Longest wait for the last export at shutdown. */
  shutdownTimeoutMs?: number;
  /** Another exporter instead of OTLP/HTTP (tests). */
  exporter?: SpanExporter;
}

function packageVersion(): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/** Trace-id ratio sampling: the first 8 hex digits of the id (a random UUID) against the ratio. */
export function sampled(id: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  const n = Number.parseInt(id.slice(0, 8), 16);
  return Number.isFinite(n) && n / 0x1_0000_0000 < ratio;
}

/** Says when exports fail (once per failing streak), never with the endpoint's headers. */
class ReportingExporter implements SpanExporter {
  private failing = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly url: string,
    private readonly logger: { warn(obj: object, msg: string): void },
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== 0 && !this.failing) {
        this.failing = true;
        this.logger.warn(
          { endpoint: this.url, spans: spans.length, error: result.error?.message ?? 'export failed' },
          'OpenTelemetry export failed; spans are dropped until the endpoint answers',
        );
      } else if (result.code === 0) this.failing = false;
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export class OtelCalls implements CallObserver {
  private queue: CallRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private dropped = 0;
  private closed = false;
  private readonly provider: BasicTracerProvider;
  private readonly ids = new ChosenTraceIds();
  private readonly maxQueue: number;
  private readonly buildIntervalMs: number;
  private readonly version = packageVersion();

  constructor(private readonly opts: OtelCallsOptions) {
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.buildIntervalMs = opts.buildIntervalMs ?? 200;
    const exporter = new ReportingExporter(
      opts.exporter ?? new OTLPTraceExporter({ url: opts.settings.url, headers: opts.settings.headers }),
      opts.settings.url,
      opts.logger,
    );
    const version = this.version;
    const delay = opts.exportDelayMs ?? (process.env.OTEL_BSP_SCHEDULE_DELAY ? undefined : 1000);
    this.provider = new BasicTracerProvider({
      resource: defaultResource().merge(
        resourceFromAttributes({
          [ATTR_SERVICE_NAME]: opts.settings.serviceName,
          ...(version ? { [ATTR_SERVICE_VERSION]: version } : {}),
        }),
      ),
      idGenerator: this.ids,
      spanProcessors: [
        new BatchSpanProcessor(exporter, delay === undefined ? {} : { scheduledDelayMillis: delay }),
      ],
    });
  }

  observe(rec: CallRecord): void {
    if (this.closed || !sampled(rec.id, this.opts.settings.ratio)) return;
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(rec);
    if (!this.timer) {
      this.timer = setTimeout(() => this.build(), this.buildIntervalMs);
      this.timer.unref();
    }
  }

  /** Records dropped because the span queue was full. */
  droppedTotal(): number {
    return this.dropped;
  }

  private build(): void {
    this.timer = null;
    const batch = this.queue;
    this.queue = [];
    const tracer = this.provider.getTracer('llm-trace-gateway', this.version);
    for (const rec of batch) {
      try {
        emitCallSpans(rec, {
          tracer,
          ids: this.ids,
          provider: this.opts.provider,
          scrubber: this.opts.scrubber,
        });
      } catch (err) {
        this.opts.logger.warn(
          { trace_id: rec.id, error: err instanceof Error ? err.message : String(err) },
          'span could not be built',
        );
      }
    }
  }

  /** Builds what is queued and sends every span (bounded wait). */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.build();
    const timeoutMs = this.opts.shutdownTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((done) => {
      timer = setTimeout(() => {
        this.opts.logger.warn({ timeout_ms: timeoutMs }, 'OpenTelemetry flush at shutdown timed out');
        done();
      }, timeoutMs);
      timer.unref();
    });
    await Promise.race([this.provider.shutdown().catch(() => undefined), timeout]);
    if (timer) clearTimeout(timer);
  }
}

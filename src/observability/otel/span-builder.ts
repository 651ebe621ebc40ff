/**
 * Owns the OpenTelemetry SDK: a BasicTracerProvider whose BatchSpanProcessor sends spans with
 * the official OTLP/HTTP exporter. Turns batches of SpanInputs into spans. Runs on the span
 * worker thread (otel-worker.ts), or in the calling thread when asked (tests, benches).
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
import { ChosenTraceIds, emitCallSpans } from './call-spans';
import type { OtelSettings } from './otel-settings';
import { factsFromBytes } from './response-facts';
import type { SpanInput } from './span-input';

export type Warn = (obj: Record<string, unknown>, msg: string) => void;

export interface SpanBuilderOptions {
  settings: OtelSettings;
  warn: Warn;
  /** BatchSpanProcessor delay between exports (default 1000 ms, or OTEL_BSP_SCHEDULE_DELAY). */
  exportDelayMs?: number;
  /** Another exporter instead of OTLP/HTTP (benches). */
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

/** Says when exports fail (once per failing streak), never with the endpoint's headers. */
class ReportingExporter implements SpanExporter {
  private failing = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly url: string,
    private readonly warn: Warn,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== 0 && !this.failing) {
        this.failing = true;
        this.warn(
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

export class SpanBuilder {
  private readonly provider: BasicTracerProvider;
  private readonly ids = new ChosenTraceIds();
  private readonly version = packageVersion();

  constructor(private readonly opts: SpanBuilderOptions) {
    const exporter = new ReportingExporter(
      opts.exporter ?? new OTLPTraceExporter({ url: opts.settings.url, headers: opts.settings.headers }),
      opts.settings.url,
      opts.warn,
    );
    const delay = opts.exportDelayMs ?? (process.env.OTEL_BSP_SCHEDULE_DELAY ? undefined : 1000);
    this.provider = new BasicTracerProvider({
      resource: defaultResource().merge(
        resourceFromAttributes({
          [ATTR_SERVICE_NAME]: opts.settings.serviceName,
          ...(this.version ? { [ATTR_SERVICE_VERSION]: this.version } : {}),
        }),
      ),
      idGenerator: this.ids,
      spanProcessors: [
        new BatchSpanProcessor(exporter, delay === undefined ? {} : { scheduledDelayMillis: delay }),
      ],
    });
  }

  build(inputs: SpanInput[], arena: ArrayBuffer): void {
    const tracer = this.provider.getTracer('llm-trace-gateway', this.version);
    for (const input of inputs) {
      try {
        const facts =
          input.facts ??
          (input.body
            ? factsFromBytes(input.body.kind, Buffer.from(arena, input.body.offset, input.body.length))
            : { finishReasons: [], model: null, id: null, errorCode: null });
        emitCallSpans(input, facts, { tracer, ids: this.ids });
      } catch (err) {
        this.opts.warn(
          { trace_id: input.call.id, error: err instanceof Error ? err.message : String(err) },
          'span could not be built',
        );
      }
    }
  }

  /** Sends every span still held. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

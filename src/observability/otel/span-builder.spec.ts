import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { CallRecord } from '../../gateway/call-record';
import { SecretScrubber } from '../secrets';
import { SpanBuilder } from './span-builder';
import { packBatch, toSpanInput } from './span-input';

const KEY = 'sk-upstream-spec-0123456789abcdef';

function rec(over: Partial<CallRecord>): CallRecord {
  return {
    id: '2b09f0e8-8be8-477c-99f8-d05813c35953',
    startedAt: 1_700_000_000_000,
    endpoint: '/v1/chat/completions',
    model: 'gpt-x',
    provider: 'b',
    upstreamModel: 'up-b',
    stream: true,
    keyId: 'key_1',
    sessionId: 's1',
    metadata: null,
    request: { max_tokens: 7 },
    requestBytes: null,
    upstreamRequest: null,
    response: { kind: 'none' },
    status: 'success',
    httpStatus: 200,
    error: null,
    latencyMs: 100,
    ttftMs: 20,
    overheadMs: 0.1,
    attempts: [
      { provider: 'a', model: 'up-a', status: 500, error: `echoed Bearer ${KEY}`, latency_ms: 30 },
      { provider: 'b', model: 'up-b', status: 200, error: null, latency_ms: 40 },
    ],
    usage: null,
    replayOf: null,
    sessionOf: null,
    ...over,
  };
}

describe('SpanBuilder', () => {
  it('builds the call and attempt spans from a packed batch, reading stream bytes split anywhere', async () => {
    const scrubber = new SecretScrubber();
    scrubber.set('t', [KEY]);
    const sse = Buffer.from(
      'data: {"id":"c9","model":"up-b-0613","choices":[{"delta":{"content":"x"},"finish_reason":null}]}\n\n' +
        'data: {"id":"c9","choices":[{"delta":{},"finish_reason":"length"}]}\n\n',
    );
    const providers = (id: string) =>
      id === 'a' ? { type: 'anthropic' } : { type: 'openai', baseUrl: 'https://llm.example:8443/v1' };
    const batch = packBatch([
      toSpanInput(
        rec({ id: '11111111-1111-4111-8111-111111111111', response: { kind: 'none' } }),
        providers,
        scrubber,
      ),
      toSpanInput(
        rec({ response: { kind: 'sse', chunks: [sse.subarray(0, 37), sse.subarray(37)] } }),
        providers,
        scrubber,
      ),
    ]);
    const exported: ReadableSpan[] = [];
    const exporter: SpanExporter = {
      export: (spans, done) => {
        exported.push(...spans);
        done({ code: 0 });
      },
      shutdown: async () => undefined,
    };
    const builder = new SpanBuilder({
      settings: { url: 'http://127.0.0.1:9/v1/traces', headers: {}, serviceName: 'svc', ratio: 1 },
      warn: () => undefined,
      exporter,
    });
    builder.build(batch.inputs, batch.arena);
    await builder.shutdown();
    const spans = exported.filter((s) => s.spanContext().traceId === '2b09f0e88be8477c99f8d05813c35953');
    expect(spans).toHaveLength(3);
    const call = spans.find((s) => s.parentSpanContext === undefined)!;
    expect(call.name).toBe('chat gpt-x');
    expect(call.attributes).toMatchObject({
      'gen_ai.response.finish_reasons': ['length'],
      'gen_ai.response.model': 'up-b-0613',
      'gen_ai.response.id': 'c9',
      'gen_ai.request.max_tokens': 7,
      'server.address': 'llm.example',
      'server.port': 8443,
      'gateway.session_id': 's1',
    });
    expect(call.resource.attributes['service.name']).toBe('svc');
    const [first, second] = spans
      .filter((s) => s !== call)
      .sort(
        (x, y) =>
          (x.attributes['gateway.attempt.index'] as number) -
          (y.attributes['gateway.attempt.index'] as number),
      );
    expect(first?.attributes).toMatchObject({ 'gen_ai.provider.name': 'anthropic', 'error.type': '500' });
    expect(first?.status.message).toBe('echoed Bearer [redacted]');
    expect(second?.attributes['error.type']).toBeUndefined();
    // Laid end to end from the call's start, inside the call.
    const ms = (t: [number, number]): number => t[0] * 1000 + t[1] / 1e6;
    expect(ms(first!.startTime)).toBeCloseTo(1_700_000_000_000, 0);
    expect(ms(first!.endTime)).toBeCloseTo(1_700_000_000_030, 0);
    expect(ms(second!.startTime)).toBeCloseTo(1_700_000_000_030, 0);
    expect(ms(call.endTime)).toBeCloseTo(1_700_000_000_100, 0);
  });
});

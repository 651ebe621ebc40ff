/**
 * OpenTelemetry (SPEC §7): with OTEL_EXPORTER_OTLP_ENDPOINT set, one span per /v1 call with the
 * GenAI semantic-convention attributes and one child span per upstream attempt, exported by the
 * official OTLP/HTTP exporter to a local receiver (node:http on port 0) that decodes what it gets
 * (OTLP/JSON, gzip or not). Calls come from the openai SDK; upstreams are the OpenAI mock. The
 * gateway runs as its own process: the exporter loads node:http with a dynamic import(), which
 * Jest's module sandbox refuses.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { ObservabilityRuntime } from '../../src/observability/observability-runtime';
import { startGateway } from '../support/gateway-harness';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';
import { spawnGateway, type GatewayProcess } from '../support/spawn-gateway';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: Array<{ key: string; value: OtlpValue }>;
  status?: { code?: number; message?: string };
}
interface ReceivedSpan {
  span: OtlpSpan;
  attrs: Record<string, unknown>;
  resource: Record<string, unknown>;
}

function valueOf(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function attrsOf(list: Array<{ key: string; value: OtlpValue }> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list ?? []) out[a.key] = valueOf(a.value);
  return out;
}

/** A local OTLP/HTTP traces receiver: decodes every export request it accepts. */
async function startReceiver(): Promise<{
  url: string;
  spans: ReceivedSpan[];
  requests: Array<{ path: string; headers: IncomingHttpHeaders; contentType: string }>;
  close(): Promise<void>;
}> {
  const spans: ReceivedSpan[] = [];
  const requests: Array<{ path: string; headers: IncomingHttpHeaders; contentType: string }> = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      let body = Buffer.concat(parts);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const contentType = String(req.headers['content-type'] ?? '');
      requests.push({ path: req.url ?? '', headers: req.headers, contentType });
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !contentType.includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const doc = JSON.parse(body.toString('utf8')) as {
        resourceSpans?: Array<{
          resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
          scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
        }>;
      };
      for (const rs of doc.resourceSpans ?? []) {
        const resource = attrsOf(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? [])
          for (const span of ss.spans ?? []) spans.push({ span, attrs: attrsOf(span.attributes), resource });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function waitFor<T>(what: string, get: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(debugState()).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let debugState: () => unknown = () => null;

const UPSTREAM_KEY = 'sk-upstream-otel-0123456789abcdefghij';
const OTLP_TOKEN = 'otlp-token-9f8e7d6c5b4a';
const MASTER = 'test-master-key-0123456789abcdef';

function ns(s: string): bigint {
  return BigInt(s);
}

describe('OpenTelemetry spans over OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let a: MockOpenAI;
  let b: MockOpenAI;
  let gw: GatewayProcess;
  let client: OpenAI;
  let closed = false;

  const config = (): string => `
providers:
  primary: { type: openai, base_url: "${a.baseUrl}", api_key: "${UPSTREAM_KEY}" }
  backup: { type: openai, base_url: "${b.baseUrl}", api_key: "${UPSTREAM_KEY}" }
routes:
  - match: { exact: gpt-test }
    targets:
      - { provider: primary, model: up-a, priority: 0 }
      - { provider: backup, model: up-b, priority: 1 }
  - match: { exact: strict }
    targets: [ { provider: primary, model: strict-up } ]
`;

  beforeAll(async () => {
    receiver = await startReceiver();
    a = await startMockOpenAI({ apiKey: UPSTREAM_KEY });
    b = await startMockOpenAI({ apiKey: UPSTREAM_KEY });
    a.setModelBehavior('strict-up', {
      status: 400,
      body: { error: { message: 'bad param', type: 'invalid_request_error', param: 'x', code: 'bad_param' } },
    });
    gw = await spawnGateway({
      config: config(),
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'gw-otel-test',
        OTEL_EXPORTER_OTLP_HEADERS: `x-otlp-token=${encodeURIComponent(OTLP_TOKEN)},x-tenant=t1`,
      },
    });
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 });
    debugState = () => ({
      requests: receiver.requests.map((r) => [r.path, r.contentType]),
      spans: receiver.spans.length,
      out: gw.stdout(),
      err: gw.stderr(),
    });
  }, 120_000);

  afterAll(async () => {
    if (!closed) await gw.stop('SIGKILL');
    gw.cleanup();
    await Promise.all([a.close(), b.close(), receiver.close()]);
  });

  const spansOf = (traceId: string): ReceivedSpan[] =>
    receiver.spans.filter((s) => s.span.traceId === traceId.replace(/-/g, ''));

  /** The call span and its attempt spans, once all of them arrived. */
  const callSpans = async (
    traceId: string,
    attempts: number,
  ): Promise<{ call: ReceivedSpan; children: ReceivedSpan[] }> =>
    waitFor(`spans of ${traceId}`, () => {
      const all = spansOf(traceId);
      const call = all.find((s) => s.span.parentSpanId === undefined || s.span.parentSpanId === '');
      const children = all.filter((s) => s !== call);
      return call && children.length === attempts ? { call, children } : undefined;
    });

  it('exports one SERVER span per call with the GenAI attributes, attempts as CLIENT children', async () => {
    // A client key, so the span carries its id.
    const created = await fetch(`${gw.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'otel' }),
    });
    const key = (await created.json()) as { id: string; key: string };
    const keyed = new OpenAI({ baseURL: gw.baseURL, apiKey: key.key, maxRetries: 0 });

    const before = Date.now();
    const { data, response } = await keyed.chat.completions
      .create(
        {
          model: 'gpt-test',
          messages: [{ role: 'user', content: 'hello spans' }],
          max_tokens: 50,
          temperature: 0.2,
        },
        { headers: { 'X-Session-Id': 'sess-otel-1' } },
      )
      .withResponse();
    const after = Date.now();
    const traceId = response.headers.get('x-gateway-trace-id') as string;
    expect(data.choices[0]?.message.content).toContain('hello spans');

    const { call, children } = await callSpans(traceId, 1);
    expect(call.span.name).toBe('chat gpt-test');
    expect(call.span.kind).toBe(2); // SERVER
    expect(call.resource['service.name']).toBe('gw-otel-test');
    expect(call.attrs).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-test',
      'gen_ai.response.model': data.model,
      'gen_ai.response.id': data.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': data.usage?.prompt_tokens,
      'gen_ai.usage.output_tokens': data.usage?.completion_tokens,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.stream': false,
      'gen_ai.conversation.id': 'sess-otel-1',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(a.baseUrl).port),
      'http.response.status_code': 200,
      'gateway.trace_id': traceId,
      'gateway.key_id': key.id,
      'gateway.session_id': 'sess-otel-1',
      'gateway.provider_id': 'primary',
      'gateway.status': 'success',
      'gateway.attempts': 1,
    });
    expect(call.attrs['error.type']).toBeUndefined();
    expect(call.span.status?.code ?? 0).not.toBe(2);

    // Timing: the call span starts within the time the client saw, the attempt lies within the call.
    const start = ns(call.span.startTimeUnixNano);
    const end = ns(call.span.endTimeUnixNano);
    // (The record is finished after the last byte is written, so its end may follow the client's.)
    expect(start).toBeGreaterThanOrEqual(BigInt(before - 50) * 1_000_000n);
    expect(start).toBeLessThanOrEqual(BigInt(after) * 1_000_000n);
    expect(end).toBeGreaterThan(start);
    expect(end).toBeLessThanOrEqual(BigInt(after + 2000) * 1_000_000n);
    const callMs = Number(end - start) / 1e6;
    expect(Math.abs(callMs - (call.attrs['gateway.latency_ms'] as number))).toBeLessThan(0.01);
    const child = children[0] as ReceivedSpan;
    expect(child.span.parentSpanId).toBe(call.span.spanId);
    expect(child.span.kind).toBe(3); // CLIENT
    expect(child.span.name).toBe('chat up-a');
    expect(child.attrs).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'up-a',
      'gateway.provider_id': 'primary',
      'gateway.attempt.index': 0,
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
    });
    expect(ns(child.span.startTimeUnixNano)).toBeGreaterThanOrEqual(start);
    expect(ns(child.span.endTimeUnixNano)).toBeLessThanOrEqual(end);
    const childMs = Number(ns(child.span.endTimeUnixNano) - ns(child.span.startTimeUnixNano)) / 1e6;
    expect(Math.abs(childMs - (child.attrs['gateway.latency_ms'] as number))).toBeLessThan(1);

    // The exporter sent the configured headers.
    const exportReq = receiver.requests.find((r) => r.path === '/v1/traces');
    expect(exportReq?.headers['x-otlp-token']).toBe(OTLP_TOKEN);
    expect(exportReq?.headers['x-tenant']).toBe('t1');
  }, 60_000);

  it('a stream gets its finish reason and usage from the kept stream bytes', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'one two' }] })
      .withResponse();
    for await (const _ of stream) {
      // drain
    }
    const traceId = response.headers.get('x-gateway-trace-id') as string;
    const { call } = await callSpans(traceId, 1);
    expect(call.attrs).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.response.model': 'up-a',
    });
    expect(call.attrs['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(call.attrs['gateway.ttft_ms']).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('a retried call has one child per attempt, the failed one with error.type', async () => {
    a.enqueue({ status: 500 });
    const { response } = await client.chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'user', content: 'retry me' }] })
      .withResponse();
    const traceId = response.headers.get('x-gateway-trace-id') as string;
    const { call, children } = await callSpans(traceId, 2);
    expect(call.attrs['gateway.attempts']).toBe(2);
    expect(call.attrs['gateway.provider_id']).toBe('backup');
    const byIndex = [...children].sort(
      (x, y) => (x.attrs['gateway.attempt.index'] as number) - (y.attrs['gateway.attempt.index'] as number),
    );
    const [first, second] = byIndex as [ReceivedSpan, ReceivedSpan];
    expect(first.attrs).toMatchObject({
      'gateway.provider_id': 'primary',
      'http.response.status_code': 500,
      'error.type': '500',
    });
    expect(first.span.status?.code).toBe(2); // ERROR
    expect(second.attrs).toMatchObject({ 'gateway.provider_id': 'backup', 'gen_ai.request.model': 'up-b' });
    expect(second.attrs['error.type']).toBeUndefined();
    for (const c of byIndex) expect(c.span.parentSpanId).toBe(call.span.spanId);
    // Attempts are laid one after the other inside the call.
    expect(ns(second.span.startTimeUnixNano)).toBeGreaterThanOrEqual(ns(first.span.endTimeUnixNano));
    expect(ns(second.span.endTimeUnixNano)).toBeLessThanOrEqual(ns(call.span.endTimeUnixNano));
  }, 60_000);

  it('a failed call carries error.type and an ERROR status, without credentials', async () => {
    let traceId = '';
    try {
      await client.chat.completions.create({ model: 'strict', messages: [{ role: 'user', content: 'x' }] });
      throw new Error('expected a 400');
    } catch (err) {
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      traceId = (err as InstanceType<typeof OpenAI.BadRequestError>).headers?.get('x-gateway-trace-id') ?? '';
    }
    expect(traceId).not.toBe('');
    const { call, children } = await callSpans(traceId, 1);
    expect(call.attrs).toMatchObject({
      'error.type': 'bad_param',
      'gateway.status': 'error',
      'http.response.status_code': 400,
    });
    expect(call.span.status?.code).toBe(2);
    expect(call.span.status?.message).toContain('bad param');
    expect((children[0] as ReceivedSpan).attrs['error.type']).toBe('400');
    const everything = JSON.stringify(receiver.spans);
    expect(everything).not.toContain(UPSTREAM_KEY);
    expect(everything).not.toContain(OTLP_TOKEN);
  }, 60_000);

  it('shutdown flushes the spans still queued', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'user', content: 'last one' }] })
      .withResponse();
    const traceId = response.headers.get('x-gateway-trace-id') as string;
    expect(await gw.stop('SIGTERM')).toBe(0);
    closed = true;
    // The process exited only after the export: the spans are there without waiting.
    expect(spansOf(traceId)).toHaveLength(2);
    expect(gw.stdout()).not.toContain('OpenTelemetry export failed');
  }, 60_000);
});

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('starts no OpenTelemetry SDK', async () => {
    const gw = await startGateway(
      'providers:\n  m: { type: mock }\nroutes:\n  - match: { any: true }\n    targets: [ { provider: m } ]\n',
    );
    try {
      expect(gw.running.app.get(ObservabilityRuntime).otelStarted).toBe(false);
      const client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 });
      const res = await client.chat.completions.create({
        model: 'x',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.choices[0]?.message.content).toBe('hi');
    } finally {
      await gw.close();
    }
  }, 60_000);
});

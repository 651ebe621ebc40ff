/**
 * Upstream faults through a real gateway process (SPEC §2 routing, §3 errors): resets in the
 * middle of a stream, stalls before the first byte, 5xx storms. Each time the caller (the
 * openai SDK) gets a clear outcome, the trace says what happened, and the process lives on.
 */
import OpenAI from 'openai';
import { adminCall, apiError, eventually } from '../support/admin-client';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';
import { spawnGateway, type GatewayProcess } from '../support/spawn-gateway';
import { metricValue, pool, scale } from './scale';

interface Trace {
  id: string;
  status: string;
  http_status: number;
  provider: string | null;
  error: string | null;
  attempts: Array<{ provider?: string; status?: number | null; error?: string | null }>;
  response?: unknown;
}

describe('upstream faults', () => {
  let flaky: MockOpenAI;
  let steady: MockOpenAI;
  let gw: GatewayProcess;
  let client: OpenAI;

  beforeAll(async () => {
    flaky = await startMockOpenAI();
    steady = await startMockOpenAI();
    const config = `
providers:
  flaky: { type: openai, base_url: "${flaky.baseUrl}", api_key: sk-upstream-flaky-secret, timeout_ms: 800 }
  steady: { type: openai, base_url: "${steady.baseUrl}", api_key: sk-upstream-steady-secret, timeout_ms: 10000 }
routes:
  - match: { prefix: "only-" }
    targets: [ { provider: flaky } ]
  - match: { any: true }
    targets: [ { provider: flaky, priority: 0 }, { provider: steady, priority: 1 } ]
`;
    gw = await spawnGateway({ config });
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'caller', maxRetries: 0, timeout: 30_000 });
  }, 120_000);

  afterAll(async () => {
    expect(await gw.stop('SIGTERM')).toBe(0);
    gw.cleanup();
    await flaky.close();
    await steady.close();
  }, 90_000);

  const trace = async (id: string): Promise<Trace> => {
    let found: Trace | null = null;
    await eventually(
      async () => {
        const r = await adminCall<Trace>(gw.url, gw.masterKey, 'GET', `/api/records/${id}`);
        if (r.status === 200) found = r.body;
        return r.status === 200;
      },
      10_000,
      100,
    );
    if (!found) throw new Error(`trace ${id} not found`);
    return found;
  };

  it('upstream resets mid-stream: the caller sees the stream end in an error, the trace keeps the partial output', async () => {
    const runs = scale(5, 50);
    flaky.setModelBehavior('only-reset', { resetAfterChunks: 3, chunkDelayMs: 10 });
    const outcomes = await pool(Array.from({ length: runs }), 10, async (_, i) => {
      const { data: stream, response } = await client.chat.completions
        .create({
          model: 'only-reset',
          stream: true,
          messages: [{ role: 'user', content: `a long enough sentence to need several chunks, run ${i}` }],
        })
        .withResponse();
      let text = '';
      let failure: unknown = null;
      try {
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
      } catch (err) {
        failure = err;
      }
      return { text, failure, id: response.headers.get('x-gateway-trace-id') ?? '' };
    });
    for (const o of outcomes) {
      expect(o.failure).not.toBeNull();
      expect(o.text.length).toBeGreaterThan(0);
    }
    const t = await trace(outcomes[0]?.id ?? '');
    expect(t.status).toBe('error');
    expect(JSON.stringify(t.response)).toContain(outcomes[0]?.text);
    // Still serving.
    expect(
      (await client.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'alive' }] }))
        .choices[0]?.message.content,
    ).toBe('Echo: alive');
  }, 120_000);

  it('a stall before the first byte times out and the next target answers; alone it is a 504', async () => {
    flaky.setModelBehavior('stall', { delayMs: 3000 });
    flaky.setModelBehavior('only-stall', { delayMs: 3000 });
    const { data, response } = await client.chat.completions
      .create({ model: 'stall', messages: [{ role: 'user', content: 'are you there' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Echo: are you there');
    const t = await trace(response.headers.get('x-gateway-trace-id') ?? '');
    expect(t.provider).toBe('steady');
    expect(t.attempts).toHaveLength(2);
    expect(t.attempts[0]?.provider).toBe('flaky');
    const err = await apiError(
      client.chat.completions.create({ model: 'only-stall', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(err.status).toBe(504);
    expect(err.error).toEqual(
      expect.objectContaining({ message: expect.any(String), type: expect.any(String) }),
    );
    // Streams too: the stall is before the first byte, so the stream falls back.
    const stream = await client.chat.completions.create({
      model: 'stall',
      stream: true,
      messages: [{ role: 'user', content: 'streamed' }],
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('Echo: streamed');
  }, 60_000);

  it('a 5xx storm: calls fall over to the next target, the failing one cools down after 3 strikes', async () => {
    flaky.setModelBehavior('storm', { status: 500 });
    const before = flaky.requests.filter(
      (r) => (r.body as { model?: string } | null)?.model === 'storm',
    ).length;
    for (let i = 0; i < 6; i++) {
      const r = await client.chat.completions.create({
        model: 'storm',
        messages: [{ role: 'user', content: `storm ${i}` }],
      });
      expect(r.choices[0]?.message.content).toBe(`Echo: storm ${i}`);
    }
    const hits =
      flaky.requests.filter((r) => (r.body as { model?: string } | null)?.model === 'storm').length - before;
    // Three strikes, then the target is skipped for 30 s.
    expect(hits).toBe(3);
    const storm = scale(50, 500);
    const statuses = await pool(Array.from({ length: storm }), 50, async (_, i) =>
      (await client.chat.completions.create({
        model: 'storm',
        stream: i % 2 === 0,
        messages: [{ role: 'user', content: 'x' }],
      }))
        ? 200
        : 0,
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(
      metricValue(metrics, 'gateway_upstream_errors_total', { provider: 'flaky' }),
    ).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('with no target left: 502 after a 500, 503 after 503 or 429, in OpenAI error shape', async () => {
    flaky.setModelBehavior('only-500', { status: 500 });
    flaky.setModelBehavior('only-503', { status: 503 });
    flaky.setModelBehavior('only-429', { status: 429 });
    for (const [model, status] of [
      ['only-500', 502],
      ['only-503', 503],
      ['only-429', 503],
    ] as const) {
      const err = await apiError(
        client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }),
      );
      expect(err.status).toBe(status);
      expect(typeof err.error).toBe('object');
      expect(JSON.stringify(err.error)).not.toContain('sk-upstream');
    }
  }, 60_000);
});

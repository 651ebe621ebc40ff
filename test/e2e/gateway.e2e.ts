/**
 * The spine through the official `openai` SDK against a faithful OpenAI mock upstream:
 * pass-through, streams, tools, usage, errors, retry, fallback, weights, cooldown, disconnect,
 * body limits and live config reload.
 */
import OpenAI from 'openai';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';
import { startGateway, type Harness } from '../support/gateway-harness';

const UPSTREAM_KEY = 'sk-upstream-secret-123';

function config(a: MockOpenAI, b: MockOpenAI, extra = ''): string {
  return `
server: { body_limit_mb: 1 }
providers:
  a: { type: openai, base_url: "${a.baseUrl}", api_key: ${UPSTREAM_KEY}, timeout_ms: 800 }
  b: { type: openai, base_url: "${b.baseUrl}", api_key: ${UPSTREAM_KEY}, timeout_ms: 800 }
  dead: { type: openai, base_url: "http://127.0.0.1:9/v1", api_key: x, timeout_ms: 800 }
  open: { type: openai, base_url: "${a.baseUrl}" }
routes:
  - match: { exact: gpt-test }
    targets: [ { provider: a, model: upstream-a } ]
  - match: { exact: retry-me }
    targets: [ { provider: a, model: ra, priority: 0 }, { provider: b, model: rb, priority: 1 } ]
  - match: { exact: all-fail }
    targets: [ { provider: a, model: fa, priority: 0 }, { provider: b, model: fb, priority: 1 } ]
  - match: { exact: falls-back }
    targets: [ { provider: dead, model: x } ]
    fallback: [ backup ]
  - match: { exact: backup }
    targets: [ { provider: b } ]
  - match: { exact: weighted }
    targets: [ { provider: a, model: wa, weight: 3 }, { provider: b, model: wb, weight: 1 } ]
  - match: { exact: cool }
    targets: [ { provider: a, model: ca, priority: 0 }, { provider: b, model: cb, priority: 1 } ]
  - match: { exact: forward }
    targets: [ { provider: open, model: fwd } ]
  - match: { prefix: "pre/" }
    targets: [ { provider: a } ]
${extra}`;
}

describe('POST /v1/chat/completions through the gateway', () => {
  let a: MockOpenAI;
  let b: MockOpenAI;
  let gw: Harness;
  let client: OpenAI;

  beforeAll(async () => {
    a = await startMockOpenAI();
    b = await startMockOpenAI();
    gw = await startGateway(config(a, b));
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'caller-token', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await a.close();
    await b.close();
  });
  beforeEach(() => {
    a.requests.length = 0;
    b.requests.length = 0;
  });

  it('passes a non-stream call through with the target model and the provider key', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hi there' }],
    });
    expect(res.choices[0]?.message.content).toContain('hi there');
    expect(a.requests).toHaveLength(1);
    const sent = a.requests[0]!;
    expect((sent.body as { model: string }).model).toBe('upstream-a');
    expect(sent.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
  });

  it('streams without a usage chunk when the client did not ask, yet asks the upstream for usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      stream: true,
      messages: [{ role: 'user', content: 'stream me please' }],
    });
    let text = '';
    let sawUsage = false;
    let sawEmptyChoices = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) sawUsage = true;
      if (chunk.choices.length === 0) sawEmptyChoices = true;
      expect(chunk.usage ?? null).toBeNull();
    }
    expect(text).toContain('stream me please');
    expect(sawUsage).toBe(false);
    expect(sawEmptyChoices).toBe(false);
    expect(
      (a.requests[0]!.body as { stream_options?: { include_usage?: boolean } }).stream_options?.include_usage,
    ).toBe(true);
  });

  it('streams the usage chunk when the client asked for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'count me' }],
    });
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage?.total_tokens).toBeGreaterThan(0);
  });

  it('round-trips tools, streamed, with joined tool-call arguments', async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    const first = await client.chat.completions
      .stream({ model: 'gpt-test', tools, messages: [{ role: 'user', content: 'weather in Paris?' }] })
      .finalChatCompletion();
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') return;
    expect(() => JSON.parse(call.function.arguments) as unknown).not.toThrow();
    const second = await client.chat.completions.create({
      model: 'gpt-test',
      tools,
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'sunny, 21C' },
      ],
    });
    expect(second.choices[0]?.message.content).toContain('sunny, 21C');
  });

  it('accepts image parts and passes them through', async () => {
    await client.chat.completions.create({
      model: 'gpt-test',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
      ],
    });
    const content = (a.requests[0]!.body as { messages: Array<{ content: unknown }> }).messages[0]!.content;
    expect(content).toEqual([
      { type: 'text', text: 'what is this?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
    ]);
  });

  it('sends the part after a "x/" prefix as the model when the target names none', async () => {
    await client.chat.completions.create({
      model: 'pre/inner-model',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect((a.requests[0]!.body as { model: string }).model).toBe('inner-model');
  });

  it("forwards the caller's bearer token when the provider has no key", async () => {
    await client.chat.completions.create({ model: 'forward', messages: [{ role: 'user', content: 'x' }] });
    expect(a.requests[0]!.headers.authorization).toBe('Bearer caller-token');
  });

  it('returns an upstream 400 at once, in OpenAI error shape, without retrying', async () => {
    a.enqueue({
      status: 400,
      body: {
        error: { message: 'bad thing', type: 'invalid_request_error', param: 'messages', code: 'bad' },
      },
    });
    const err = await client.chat.completions
      .create({ model: 'retry-me', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('bad thing');
    expect(b.requests).toHaveLength(0);
  });

  it('retries the next target on 503 and records every attempt', async () => {
    a.enqueue({ status: 503 });
    const res = await client.chat.completions.create({
      model: 'retry-me',
      messages: [{ role: 'user', content: 'again' }],
    });
    expect(res.choices[0]?.message.content).toContain('again');
    expect(a.requests).toHaveLength(1);
    expect(b.requests).toHaveLength(1);
    expect((b.requests[0]!.body as { model: string }).model).toBe('rb');
  });

  it('retries on a timeout before the first byte, and streams fall back before their first byte', async () => {
    a.enqueue({ delayMs: 2000 });
    const stream = await client.chat.completions.create({
      model: 'retry-me',
      stream: true,
      messages: [{ role: 'user', content: 'slow' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toContain('slow');
    expect(b.requests).toHaveLength(1);
  });

  it('answers 503 when every attempt got 429/503, and 504 when the last one timed out', async () => {
    a.enqueue({ status: 429 });
    b.enqueue({ status: 503 });
    await expect(
      client.chat.completions.create({ model: 'all-fail', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 503 });
    a.enqueue({ status: 500 });
    b.enqueue({ delayMs: 2000 });
    await expect(
      client.chat.completions.create({ model: 'all-fail', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 504 });
  });

  it('answers 502 when the upstream cannot be reached and there is no fallback', async () => {
    gw.writeConfig(config(a, b, `  - match: { exact: only-dead }\n    targets: [ { provider: dead } ]\n`));
    await waitFor(async () => {
      const e = await client.chat.completions
        .create({ model: 'only-dead', messages: [{ role: 'user', content: 'x' }] })
        .catch((x: unknown) => x);
      return (e as { status?: number }).status === 502;
    });
  });

  it('tries the fallback model when every target failed', async () => {
    const res = await client.chat.completions.create({
      model: 'falls-back',
      messages: [{ role: 'user', content: 'fb' }],
    });
    expect(res.choices[0]?.message.content).toContain('fb');
    expect((b.requests[0]!.body as { model: string }).model).toBe('backup');
  });

  it('splits traffic by weight', async () => {
    for (let i = 0; i < 200; i++) {
      await client.chat.completions.create({ model: 'weighted', messages: [{ role: 'user', content: 'w' }] });
    }
    const share = a.requests.length / 200;
    expect(share).toBeGreaterThan(0.62);
    expect(share).toBeLessThan(0.88);
  });

  it('puts a target that failed 3 times in a row in cooldown', async () => {
    for (let i = 0; i < 3; i++) {
      a.enqueue({ status: 500 });
      await client.chat.completions.create({ model: 'cool', messages: [{ role: 'user', content: 'c' }] });
    }
    expect(a.requests).toHaveLength(3);
    a.requests.length = 0;
    b.requests.length = 0;
    await client.chat.completions.create({ model: 'cool', messages: [{ role: 'user', content: 'c' }] });
    expect(a.requests).toHaveLength(0);
    expect(b.requests).toHaveLength(1);
  });

  it('aborts the upstream request when the client disconnects mid-stream', async () => {
    a.enqueue({ chunkDelayMs: 100 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      {
        model: 'gpt-test',
        stream: true,
        messages: [{ role: 'user', content: 'one two three four five six seven eight' }],
      },
      { signal: controller.signal },
    );
    let n = 0;
    const before = a.closedEarly;
    for await (const _ of stream) {
      if (++n === 2) controller.abort();
    }
    expect(n).toBe(2);
    await waitFor(async () => a.closedEarly > before);
  });

  it('answers 400 for bad JSON, a missing model and bad messages, 404 for an unknown model, 413 over the body limit', async () => {
    const post = (body: string) =>
      fetch(`${gw.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const bad = await post('{"model": ');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect((await post('{"messages": []}')).status).toBe(400);
    expect((await post('{"model": "gpt-test", "messages": "x"}')).status).toBe(400);
    expect((await post('[1,2]')).status).toBe(400);
    await expect(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    const huge = JSON.stringify({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'x'.repeat(1_200_000) }],
    });
    const big = await post(huge);
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: 'request_too_large' } });
    const after = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'still up' }],
    });
    expect(after.choices[0]?.message.content).toContain('still up');
  });

  it('passes legacy completions and embeddings through', async () => {
    const c = await client.completions.create({ model: 'gpt-test', prompt: 'complete this' });
    expect(c.choices[0]?.text.length).toBeGreaterThan(0);
    const e = await client.embeddings.create({ model: 'gpt-test', input: 'embed me' });
    expect(e.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(a.requests.map((r) => r.path)).toEqual(['/v1/completions', '/v1/embeddings']);
  });

  it('applies a valid config edit within 2 s and refuses an invalid one', async () => {
    gw.writeConfig(config(a, b, `  - match: { exact: brand-new }\n    targets: [ { provider: b } ]\n`));
    await waitFor(async () => {
      const r = await client.chat.completions
        .create({ model: 'brand-new', messages: [{ role: 'user', content: 'new' }] })
        .catch(() => null);
      return r !== null;
    }, 2500);
    gw.writeConfig(config(a, b, `  - match: { exact: broken }\n    targets: [ { provider: nowhere } ]\n`));
    await new Promise((r) => setTimeout(r, 1500));
    const still = await client.chat.completions.create({
      model: 'brand-new',
      messages: [{ role: 'user', content: 'ok' }],
    });
    expect(still.choices[0]?.message.content).toContain('ok');
    expect(gw.logs.join('')).toContain('unknown provider \\"nowhere\\"');
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The shipped defaults: a first request succeeds through the mock provider with no key at all. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startGateway, type Harness } from '../support/gateway-harness';

const SHIPPED = readFileSync(join(__dirname, '../../config/gateway.yaml'), 'utf8');

describe('the mock provider with the shipped config', () => {
  let gw: Harness;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startGateway(SHIPPED);
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'no-key-needed' });
  });
  afterAll(() => gw.close());

  it('answers a chat completion with the last user message', async () => {
    const res = await client.chat.completions.create({
      model: 'mock',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello gateway' },
      ],
    });
    expect(res.choices[0]?.message.content).toBe('hello gateway');
    expect(res.usage?.completion_tokens).toBe(2);
    expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + 2);
  });

  it('streams, and sends usage only when asked', async () => {
    const without = await client.chat.completions.create({
      model: 'mock',
      stream: true,
      messages: [{ role: 'user', content: 'one two three' }],
    });
    let text = '';
    let usageSeen = false;
    for await (const chunk of without) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usageSeen = true;
    }
    expect(text).toBe('one two three');
    expect(usageSeen).toBe(false);

    const withUsage = await client.chat.completions.create({
      model: 'mock',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'one two three' }],
    });
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of withUsage) if (chunk.usage) usage = chunk.usage;
    expect(usage?.completion_tokens).toBe(3);
  });

  it('calls the first tool when tools are offered, streamed and not', async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
    ];
    const res = await client.chat.completions.create({
      model: 'mock',
      tools,
      messages: [{ role: 'user', content: 'find it' }],
    });
    const call = res.choices[0]?.message.tool_calls?.[0];
    expect(res.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function.name).toBe('lookup');
    const stream = client.chat.completions.stream({
      model: 'mock',
      tools,
      messages: [{ role: 'user', content: 'find it' }],
    });
    const final = await stream.finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    expect(streamed?.type === 'function' && JSON.parse(streamed.function.arguments)).toEqual({
      input: 'find it',
    });
  });

  it('serves embeddings, legacy completions and the model list', async () => {
    const emb = await client.embeddings.create({ model: 'mock', input: ['a', 'b'] });
    expect(emb.data).toHaveLength(2);
    expect(emb.data[0]?.embedding.length).toBe(8);
    const legacy = await client.completions.create({ model: 'mock', prompt: 'say this' });
    expect(legacy.choices[0]?.text).toBe('say this');
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('mock');
    const one = await client.models.retrieve('mock');
    expect(one.id).toBe('mock');
    await expect(client.models.retrieve('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('reports its own overhead on every response', async () => {
    const raw = await client.chat.completions
      .create({ model: 'mock', messages: [{ role: 'user', content: 'x' }] })
      .withResponse();
    const overhead = raw.response.headers.get('x-gateway-overhead-ms');
    expect(overhead).not.toBeNull();
    expect(Number(overhead)).toBeGreaterThanOrEqual(0);
    const stream = await client.chat.completions
      .create({ model: 'mock', messages: [{ role: 'user', content: 'x' }], stream: true })
      .withResponse();
    for await (const _ of stream.data) {
      // drain
    }
    const listed = await client.models.list().withResponse();
    const retrieved = await client.models.retrieve('mock').withResponse();
    const failed = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', body: '{' });
    for (const res of [stream.response, listed.response, retrieved.response, failed]) {
      expect(Number(res.headers.get('x-gateway-overhead-ms'))).toBeGreaterThanOrEqual(0);
      expect(res.headers.get('x-gateway-overhead-ms')).toMatch(/^\d+\.\d{3}$/);
    }
  });

  it('exposes every metric on /metrics, moving as calls happen', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    for (const name of [
      'gateway_requests_total',
      'gateway_request_duration_seconds',
      'gateway_ttft_seconds',
      'gateway_tokens_total',
      'gateway_upstream_errors_total',
      'gateway_fallbacks_total',
      'gateway_active_streams',
      'gateway_trace_queue_depth',
      'gateway_traces_dropped_total',
    ]) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/gateway_requests_total\{model="mock",provider="mock",status="success"\} [1-9]/);
    const completion = /gateway_tokens_total\{type="completion"\} (\d+)/.exec(text);
    expect(Number(completion?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/gateway_ttft_seconds_count [1-9]/);
  });

  it('answers /health and /ready', async () => {
    const health = await fetch(`${gw.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${gw.url}/ready`);
    expect(ready.status).toBe(200);
  });
});

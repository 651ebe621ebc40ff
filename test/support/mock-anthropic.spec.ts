/**
 * The Anthropic mock driven by the official `@anthropic-ai/sdk`: if the SDK can talk to it, the
 * mock speaks the real wire format (paths, headers, bodies, SSE event names and order, errors).
 */
import Anthropic from '@anthropic-ai/sdk';
import { MOCK_ANTHROPIC_KEY, MOCK_ANTHROPIC_MODELS, startMockAnthropic } from './mock-anthropic';
import type { MockAnthropic } from './mock-anthropic';

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('mock Anthropic Messages API (driven by @anthropic-ai/sdk)', () => {
  let mock: MockAnthropic;
  let client: Anthropic;

  beforeAll(async () => {
    mock = await startMockAnthropic();
    client = new Anthropic({ apiKey: MOCK_ANTHROPIC_KEY, baseURL: mock.baseUrl, maxRetries: 0 });
  });
  afterAll(async () => {
    await mock.close();
  });

  it('answers messages.create with the last user text, stop_reason and usage', async () => {
    const msg = await client.messages.create({
      model: 'claude-test',
      max_tokens: 100,
      system: 'be brief',
      messages: [{ role: 'user', content: 'hello there claude' }],
    });
    expect(msg.type).toBe('message');
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.content).toEqual([{ type: 'text', text: 'hello there claude' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage.input_tokens).toBe(5);
    expect(msg.usage.output_tokens).toBe(3);
    const sent = mock.requests[mock.requests.length - 1]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers.authorization).toBe(`Bearer ${MOCK_ANTHROPIC_KEY}`);
    expect(sent.headers['anthropic-version']).toBe('2026-10-21');
  });

  it('takes x-api-key with version 2023-06-01, where temperature is still a parameter', async () => {
    const legacy = new Anthropic({
      apiKey: null,
      baseURL: mock.baseUrl,
      maxRetries: 0,
      defaultHeaders: { 'x-api-key': MOCK_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' },
    });
    // The SDK's types follow the newest API version, which dropped `temperature`.
    const withTemperature = (
      content: string,
    ): Anthropic.MessageCreateParamsNonStreaming & { temperature: number } => ({
      model: 'claude-test',
      max_tokens: 10,
      temperature: 0.2,
      messages: [{ role: 'user', content }],
    });
    const msg = await legacy.messages.create(withTemperature('legacy'));
    expect(msg.content).toEqual([{ type: 'text', text: 'legacy' }]);
    const sent = mock.requests[mock.requests.length - 1]!;
    expect(sent.headers['x-api-key']).toBe(MOCK_ANTHROPIC_KEY);
    expect(sent.headers.authorization).toBeUndefined();
    await expect(client.messages.create(withTemperature('x'))).rejects.toMatchObject({ status: 400 });
  });

  it('streams every event type in the documented order, which the SDK accumulates', async () => {
    const stream = client.messages.stream({
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'one two three four five' }],
    });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'one two three four five' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(5);
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(types.filter((t) => t === 'content_block_delta')).toHaveLength(3);
  });

  it('sends `event:` lines the raw create({stream: true}) iterator relies on', async () => {
    const stream = await client.messages.create({
      model: 'claude-test',
      max_tokens: 100,
      stream: true,
      messages: [{ role: 'user', content: 'raw events' }],
    });
    let text = '';
    let stop: string | null = null;
    for await (const e of stream) {
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
      if (e.type === 'message_delta') stop = e.delta.stop_reason;
    }
    expect(text).toBe('raw events');
    expect(stop).toBe('end_turn');
  });

  it('calls a tool, then answers the tool result; streamed tool input parses as JSON', async () => {
    const first = await client.messages.create({
      model: 'claude-test',
      max_tokens: 200,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Paris' }],
    });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(use).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });

    const second = await client.messages.create({
      model: 'claude-test',
      max_tokens: 200,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Paris' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny, 21 C' }] },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'Result: sunny, 21 C' }]);

    const streamed = await client.messages
      .stream({
        model: 'claude-test',
        max_tokens: 200,
        tools: [weatherTool],
        messages: [{ role: 'user', content: 'Rome' }],
      })
      .finalMessage();
    expect(streamed.content.find((b) => b.type === 'tool_use')).toMatchObject({ input: { city: 'Rome' } });
  });

  it('rejects a tool_use without its tool_result right after', async () => {
    await expect(
      client.messages.create({
        model: 'claude-test',
        max_tokens: 50,
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] },
          { role: 'user', content: 'no result' },
        ],
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('thinks with a signature the SDK keeps, and checks the signature it gets back', async () => {
    const stream = client.messages.stream({
      model: 'claude-test',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'think about it' }],
    });
    let signature = '';
    stream.on('streamEvent', (e) => {
      if (e.type === 'content_block_delta' && e.delta.type === 'signature_delta')
        signature = e.delta.signature;
    });
    const final = await stream.finalMessage();
    const thinking = final.content[0] as Anthropic.ThinkingBlock;
    expect(thinking.type).toBe('thinking');
    expect(thinking.thinking).toBe('The user wrote: think about it');
    expect(thinking.signature).toBe(signature);
    expect(mock.issuedSignatures).toContain(signature);

    const ok = await client.messages.create({
      model: 'claude-test',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        { role: 'user', content: 'think about it' },
        { role: 'assistant', content: final.content },
        { role: 'user', content: 'again' },
      ],
    });
    expect(ok.content[0]!.type).toBe('thinking');

    await expect(
      client.messages.create({
        model: 'claude-test',
        max_tokens: 2048,
        messages: [
          { role: 'user', content: 'think about it' },
          {
            role: 'assistant',
            content: [
              { ...thinking, signature: 'forged' },
              { type: 'text', text: 'hi' },
            ],
          },
          { role: 'user', content: 'again' },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, error: { error: { type: 'invalid_request_error' } } });
  });

  it.each([
    [400, Anthropic.BadRequestError, 'invalid_request_error'],
    [401, Anthropic.AuthenticationError, 'authentication_error'],
    [429, Anthropic.RateLimitError, 'rate_limit_error'],
    [500, Anthropic.InternalServerError, 'api_error'],
    [529, Anthropic.InternalServerError, 'overloaded_error'],
  ])('answers an injected %i as the SDK expects', async (status, cls, type) => {
    mock.failNext(status);
    const call = client.messages.create({
      model: 'claude-test',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(call).rejects.toBeInstanceOf(cls);
    await expect(call).rejects.toMatchObject({ status, error: { type: 'error', error: { type } } });
  });

  it('fails by model name, and rejects a wrong key', async () => {
    await expect(
      client.messages.create({
        model: 'claude-error-529',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toMatchObject({ status: 529 });
    const wrong = new Anthropic({ apiKey: 'nope', baseURL: mock.baseUrl, maxRetries: 0 });
    await expect(
      wrong.messages.create({
        model: 'claude-test',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('sends an error event mid-stream, which the SDK throws', async () => {
    const stream = await client.messages.create({
      model: 'claude-midstream-error',
      max_tokens: 100,
      stream: true,
      messages: [{ role: 'user', content: 'a b c d' }],
    });
    const seen: string[] = [];
    const run = async (): Promise<void> => {
      for await (const e of stream) seen.push(e.type);
    };
    await expect(run()).rejects.toMatchObject({ error: { error: { type: 'overloaded_error' } } });
    expect(seen).toContain('content_block_delta');
  });

  it('lists models page by page', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list({ limit: 2 })) ids.push(m.id);
    expect(ids).toEqual(MOCK_ANTHROPIC_MODELS.map((m) => m.id));
    const one = await client.models.retrieve('claude-opus-4-1-20250805');
    expect(one.display_name).toBe('Claude Opus 4.1');
  });
});

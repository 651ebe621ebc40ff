import OpenAI from 'openai';
import { chatChunksFromSse, reassembleChatStream } from '../../src/common/reassemble';
import { SseEventSplitter } from '../../src/common/sse/event-splitter';
import { startMockOpenAI, type MockOpenAI } from './mock-openai';

const API_KEY = 'sk-test-mock-key';

describe('mock OpenAI upstream, driven by the official openai SDK', () => {
  let mock: MockOpenAI;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startMockOpenAI({
      apiKey: API_KEY,
      byModel: { 'always-busy': { status: 503 } },
    });
    client = new OpenAI({ baseURL: mock.baseUrl, apiKey: API_KEY, maxRetries: 0, timeout: 5000 });
  });

  afterAll(async () => {
    await mock.close();
  });

  beforeEach(() => {
    mock.requests.length = 0;
  });

  const weatherTool: OpenAI.Chat.ChatCompletionTool = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  };

  describe('POST /v1/chat/completions', () => {
    it('answers a non-stream call with a chat.completion echoing the last user message', async () => {
      const res = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: [{ type: 'text', text: 'héllo 世界 🙂' }] },
        ],
      });
      expect(res).toMatchObject({
        object: 'chat.completion',
        model: 'gpt-4o',
        system_fingerprint: expect.any(String),
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Echo: héllo 世界 🙂', refusal: null },
            finish_reason: 'stop',
            logprobs: null,
          },
        ],
      });
      expect(res.id).toMatch(/^chatcmpl-/);
      expect(typeof res.created).toBe('number');
      expect(res.usage).toMatchObject({
        prompt_tokens: expect.any(Number),
        completion_tokens: expect.any(Number),
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      });
      expect(res.usage?.total_tokens).toBe(
        (res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0),
      );
    });

    it('records method, path, headers and the parsed body of every request', async () => {
      await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
      expect(mock.requests).toHaveLength(1);
      const r = mock.requests[0];
      expect(r?.method).toBe('POST');
      expect(r?.path).toBe('/v1/chat/completions');
      expect(r?.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(r?.body).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    });

    it('streams without usage when include_usage is not asked for', async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'one two three four five' }],
        stream: true,
      });
      const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant', content: '' });
      const contentChunks = chunks.filter((c) => typeof c.choices[0]?.delta.content === 'string');
      expect(contentChunks.length).toBeGreaterThan(3);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
        'Echo: one two three four five',
      );
      expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
      expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'gpt-4o')).toBe(true);
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      expect(chunks.every((c) => !('usage' in c))).toBe(true);
    });

    it('streams usage:null on every chunk and a last usage-only chunk when include_usage is true', async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'count me' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      const last = chunks.at(-1);
      expect(last?.choices).toEqual([]);
      expect(last?.usage).toMatchObject({
        prompt_tokens: expect.any(Number),
        completion_tokens: expect.any(Number),
      });
      expect(chunks.slice(0, -1).every((c) => c.usage === null && c.choices.length === 1)).toBe(true);
      expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    });

    it('frames the raw stream like OpenAI: one JSON chunk per event, data: [DONE] last', async () => {
      const res = await fetch(`${mock.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o',
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const events = new SseEventSplitter().push(Buffer.from(await res.arrayBuffer())).map(String);
      expect(events.at(-1)).toBe('data: [DONE]\n\n');
      expect(events.slice(0, -1).every((e) => /^data: \{.*\}\n\n$/s.test(e))).toBe(true);
      expect(events.at(-2)).toMatch(/"choices":\[\],"usage":\{/);
      expect(events.slice(0, -2).every((e) => e.includes('"usage":null'))).toBe(true);
    });

    it('answers with a tool call when tools are given, and with text after the tool result', async () => {
      const first = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
        tools: [weatherTool],
      });
      expect(first.choices[0]?.finish_reason).toBe('tool_calls');
      const call = first.choices[0]?.message.tool_calls?.[0];
      if (call?.type !== 'function') throw new Error('expected a function tool call');
      expect(call.id).toMatch(/^call_/);
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toMatchObject({ city: 'Oslo' });
      expect(first.choices[0]?.message.content).toBeNull();

      const second = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [
          { role: 'user', content: 'What is the weather in Oslo?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: '12°C and rain' },
        ],
        tools: [weatherTool],
      });
      expect(second.choices[0]?.finish_reason).toBe('stop');
      expect(second.choices[0]?.message.content).toContain('12°C and rain');
    });

    it('streams a tool call with id and name first and the arguments over several chunks', async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'What is the weather in Zürich?' }],
        tools: [weatherTool],
        stream: true,
      });
      const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
      expect(toolDeltas[0]).toMatchObject({
        index: 0,
        id: expect.stringMatching(/^call_/),
        type: 'function',
      });
      expect(toolDeltas[0]?.function?.name).toBe('get_weather');
      expect(toolDeltas.slice(1).every((d) => d.id === undefined && d.function?.name === undefined)).toBe(
        true,
      );
      expect(toolDeltas.filter((d) => d.function?.arguments).length).toBeGreaterThan(2);
      const done = reassembleChatStream(chunks as never);
      const call = done.choices[0]?.message.tool_calls?.[0];
      expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toMatchObject({
        city: 'Zürich',
      });
      expect(done.choices[0]?.finish_reason).toBe('tool_calls');
    });

    it('gives n choices, streamed or not', async () => {
      const res = await client.chat.completions.create({
        model: 'gpt-4o',
        n: 2,
        messages: [{ role: 'user', content: 'twice' }],
      });
      expect(res.choices.map((c) => c.index)).toEqual([0, 1]);
      const stream = await client.chat.completions.create({
        model: 'gpt-4o',
        n: 2,
        messages: [{ role: 'user', content: 'twice' }],
        stream: true,
      });
      const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      const done = reassembleChatStream(chunks as never);
      expect(done.choices.map((c) => c.message.content)).toEqual(['Echo: twice', 'Echo: twice']);
    });

    it('answers with fixed content when a reply is queued', async () => {
      mock.enqueue({ reply: 'fixed answer' });
      const res = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(res.choices[0]?.message.content).toBe('fixed answer');
      const again = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(again.choices[0]?.message.content).toBe('Echo: x');
    });

    it('refuses a request without a model or messages with 400', async () => {
      await expect(client.chat.completions.create({ messages: [] } as never)).rejects.toMatchObject({
        status: 400,
      });
      await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [] })).rejects.toMatchObject({
        status: 400,
        param: 'messages',
      });
    });
  });

  describe('errors', () => {
    it.each([
      [400, 'invalid_request_error', 'invalid_value', 'messages'],
      [401, 'invalid_request_error', 'invalid_api_key', null],
      [404, 'invalid_request_error', 'model_not_found', null],
      [408, 'timeout', 'timeout', null],
      [429, 'requests', 'rate_limit_exceeded', null],
      [500, 'server_error', null, null],
      [503, 'server_error', null, null],
    ] as const)(
      'surfaces a queued %i as OpenAI.APIError with its type and code',
      async (status, type, code, param) => {
        mock.enqueue({ status });
        const err = await client.chat.completions
          .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OpenAI.APIError);
        expect(err).toMatchObject({ status, type, code });
        expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
          message: expect.any(String),
          param,
        });
      },
    );

    it('sends retry-after with a 429', async () => {
      mock.enqueue({ status: 429 });
      const err = (await client.chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err.headers?.get('retry-after')).toBe('1');
    });

    it('passes a custom error body and headers through', async () => {
      mock.enqueue({
        status: 400,
        body: {
          error: {
            message: 'context too long',
            type: 'invalid_request_error',
            param: 'messages',
            code: 'context_length_exceeded',
          },
        },
        headers: { 'x-custom': 'yes' },
      });
      const err = (await client.chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages' });
      expect(err.headers?.get('x-custom')).toBe('yes');
    });

    it('answers 401 invalid_api_key to a wrong key', async () => {
      const wrong = new OpenAI({ baseURL: mock.baseUrl, apiKey: 'sk-wrong', maxRetries: 0 });
      const err = await wrong.models.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(err).toMatchObject({ status: 401, code: 'invalid_api_key' });
    });

    it('chooses a behaviour by the requested model', async () => {
      const err = await client.chat.completions
        .create({ model: 'always-busy', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 503 });
      mock.setModelBehavior('slow-model', { delayMs: 150, reply: 'late' });
      const t0 = Date.now();
      const res = await client.chat.completions.create({
        model: 'slow-model',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      expect(res.choices[0]?.message.content).toBe('late');
      mock.setModelBehavior('slow-model', null);
      const fast = await client.chat.completions.create({
        model: 'slow-model',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(fast.choices[0]?.message.content).toBe('Echo: x');
    });

    it('stalls before the first byte, so a client timeout fires', async () => {
      mock.enqueue({ delayMs: 1000 });
      const impatient = new OpenAI({ baseURL: mock.baseUrl, apiKey: API_KEY, maxRetries: 0, timeout: 100 });
      const t0 = Date.now();
      const err = await impatient.chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      const waited = Date.now() - t0;
      // The SDK's timeout class depends on how the abort reaches it; both are connection errors.
      expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
      expect(waited).toBeGreaterThanOrEqual(90);
      expect(waited).toBeLessThan(900);
    });

    it('resets the connection mid-stream after the given number of chunks', async () => {
      mock.enqueue({ resetAfterChunks: 3 });
      const stream = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'a long enough message to stream in many pieces' }],
        stream: true,
      });
      const got: OpenAI.Chat.ChatCompletionChunk[] = [];
      const err = await (async () => {
        for await (const c of stream) got.push(c);
      })().catch((e: unknown) => e);
      // fetch errors come from another realm than Jest's: checked by shape, not instanceof Error.
      expect(String(err)).toMatch(/terminated|connection error/i);
      expect(got).toHaveLength(3);
    });

    it('cuts a non-stream body short on reset, and drops the connection at once for 0', async () => {
      for (const n of [1, 0]) {
        mock.enqueue({ resetAfterChunks: n });
        const err = await client.chat.completions
          .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
          .catch((e: unknown) => e);
        expect(String(err)).toMatch(/terminated|connection error|JSON/i);
      }
    });
  });

  describe('POST /v1/embeddings', () => {
    it('gives deterministic float vectors of the asked dimensions', async () => {
      const a = await client.embeddings.create({
        model: 'text-embedding-3-small',
        input: ['alpha', 'beta'],
        encoding_format: 'float',
        dimensions: 8,
      });
      expect(a).toMatchObject({ object: 'list', model: 'text-embedding-3-small' });
      expect(a.data.map((d) => [d.object, d.index, d.embedding.length])).toEqual([
        ['embedding', 0, 8],
        ['embedding', 1, 8],
      ]);
      expect(a.data[0]?.embedding).not.toEqual(a.data[1]?.embedding);
      const b = await client.embeddings.create({
        model: 'text-embedding-3-small',
        input: 'alpha',
        encoding_format: 'float',
        dimensions: 8,
      });
      expect(b.data[0]?.embedding).toEqual(a.data[0]?.embedding);
      expect(a.usage.prompt_tokens).toBeGreaterThan(0);
    });

    it('gives the same vector as base64 float32 (the SDK asks base64 and decodes it)', async () => {
      const float = await client.embeddings.create({ model: 'e', input: 'gamma', encoding_format: 'float' });
      const decoded = await client.embeddings.create({ model: 'e', input: 'gamma' });
      expect(mock.requests.at(-1)?.body).toMatchObject({ encoding_format: 'base64' });
      const want = float.data[0]?.embedding ?? [];
      const got = decoded.data[0]?.embedding ?? [];
      expect(got).toHaveLength(want.length);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i] ?? NaN, 6));
      const raw = await client.embeddings.create({ model: 'e', input: 'gamma', encoding_format: 'base64' });
      expect(typeof raw.data[0]?.embedding).toBe('string');
    });
  });

  describe('GET /v1/models', () => {
    it('lists models and retrieves one; an unknown id is a 404', async () => {
      const ids: string[] = [];
      for await (const m of client.models.list()) ids.push(m.id);
      expect(ids).toContain('gpt-4o');
      const one = await client.models.retrieve('gpt-4o');
      expect(one).toMatchObject({
        id: 'gpt-4o',
        object: 'model',
        owned_by: 'system',
        created: expect.any(Number),
      });
      const err = await client.models.retrieve('no-such-model').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect(err).toMatchObject({ code: 'model_not_found' });
    });
  });

  describe('POST /v1/completions (legacy)', () => {
    it('answers a text_completion, and streams the same text', async () => {
      const res = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this' });
      expect(res).toMatchObject({
        object: 'text_completion',
        model: 'gpt-3.5-turbo-instruct',
        choices: [{ index: 0, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: expect.any(Number) },
      });
      const text = res.choices[0]?.text ?? '';
      expect(text).toContain('Say this');
      const stream = await client.completions.create({
        model: 'gpt-3.5-turbo-instruct',
        prompt: 'Say this',
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks: OpenAI.Completions.Completion[] = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(text);
      expect(chunks.at(-1)?.choices).toEqual([]);
      expect(chunks.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
    });
  });

  it('gives raw SSE bytes that the trace reassembly reads back into the non-stream answer', async () => {
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'héllo 世界 🙂' }],
    };
    const whole = await client.chat.completions.create(body);
    const res = await fetch(`${mock.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    });
    const done = reassembleChatStream(chatChunksFromSse([Buffer.from(await res.arrayBuffer())]));
    expect(done.choices[0]?.message.content).toBe(whole.choices[0]?.message.content);
    expect(done.usage?.total_tokens).toBe(whole.usage?.total_tokens);
  });

  it('reports a repeated long prompt prefix as cached tokens, in steps of 128', async () => {
    const system = 'You answer questions about the weather. '.repeat(120);
    const ask = (q: string): Promise<OpenAI.Chat.ChatCompletion> =>
      client.chat.completions.create({
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: q },
        ],
      });
    const first = await ask('first question');
    expect(first.usage?.prompt_tokens).toBeGreaterThanOrEqual(1024);
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    const second = await ask('a different second question');
    const cached = second.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    expect(cached).toBeGreaterThanOrEqual(1024);
    expect(cached % 128).toBe(0);
    expect(cached).toBeLessThanOrEqual(second.usage?.prompt_tokens ?? 0);
    const short = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'short' }],
    });
    expect(short.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });

  it('counts reasoning tokens of reasoning models inside completion_tokens', async () => {
    const res = await client.chat.completions.create({
      model: 'o4-mini',
      messages: [{ role: 'user', content: 'think first' }],
    });
    const reasoning = res.usage?.completion_tokens_details?.reasoning_tokens ?? 0;
    expect(reasoning).toBeGreaterThan(0);
    expect(res.usage?.completion_tokens).toBeGreaterThan(reasoning);
    const plain = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'think first' }],
    });
    expect(plain.usage?.completion_tokens_details?.reasoning_tokens).toBe(0);
  });

  it('reports no usage when told to, stream and not, as some compatible servers do', async () => {
    mock.enqueue({ omitUsage: true }, { omitUsage: true });
    const res = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(res.usage).toBeUndefined();
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'x' }],
    });
    let usage: unknown;
    for await (const c of stream) usage ??= c.usage;
    expect(usage).toBeUndefined();
  });

  it('ends the answer before a stop sequence and cuts it at max_tokens with finish_reason length', async () => {
    const stopped = await client.chat.completions.create({
      model: 'gpt-4o',
      stop: ['five'],
      messages: [{ role: 'user', content: 'one two three four five six' }],
    });
    expect(stopped.choices[0]).toMatchObject({
      message: { content: 'Echo: one two three four ' },
      finish_reason: 'stop',
    });
    const cut = await client.chat.completions.create({
      model: 'gpt-4o',
      max_completion_tokens: 2,
      messages: [{ role: 'user', content: 'one two three four five six' }],
    });
    expect(cut.choices[0]).toMatchObject({ message: { content: 'Echo: on' }, finish_reason: 'length' });
  });
});

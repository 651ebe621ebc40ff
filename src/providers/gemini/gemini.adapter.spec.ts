import { UpstreamError } from '../../common/errors';
import { UpstreamHttp } from '../../common/http';
import type {
  ChatCompletionChunk,
  ChatCompletionMessage,
  ChatCompletionRequest,
  ChatToolCall,
  ThinkingBlock,
} from '../../common/openai.types';
import { MOCK_GEMINI_KEY, startMockGemini } from '../../../test/support/mock-gemini';
import type { MockGemini } from '../../../test/support/mock-gemini';
import type { CallContext, ProviderAdapter, ProviderSettings } from '../adapter.interface';
import { geminiAdapter } from './gemini.adapter';

const weatherTool: NonNullable<ChatCompletionRequest['tools']>[number] = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
};

/** Joins stream deltas into one assistant message, as a client would. */
function assemble(chunks: ChatCompletionChunk[]): ChatCompletionMessage & { finish_reason: string | null } {
  let content = '';
  let reasoning = '';
  const calls: ChatToolCall[] = [];
  const blocks: ThinkingBlock[] = [];
  let finish: string | null = null;
  for (const c of chunks) {
    for (const ch of c.choices) {
      content += ch.delta.content ?? '';
      reasoning += ch.delta.reasoning_content ?? '';
      for (const t of ch.delta.tool_calls ?? []) {
        calls[t.index] = {
          id: t.id!,
          type: 'function',
          function: { name: t.function!.name!, arguments: t.function!.arguments! },
        };
      }
      blocks.push(...(ch.delta.thinking_blocks ?? []));
      finish = ch.finish_reason ?? finish;
    }
  }
  return {
    role: 'assistant',
    content: calls.length > 0 && content === '' ? null : content,
    refusal: null,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
    ...(reasoning ? { reasoning_content: reasoning } : {}),
    ...(blocks.length > 0 ? { thinking_blocks: blocks } : {}),
    finish_reason: finish,
  };
}

async function drain(it: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

describe('gemini adapter against the mock Gemini API', () => {
  let mock: MockGemini;
  let http: UpstreamHttp;
  let adapter: ProviderAdapter;
  let sent: unknown[];

  const ctx = (extra: Partial<CallContext> = {}): CallContext => ({
    signal: new AbortController().signal,
    requestId: 'req-1',
    apiKey: MOCK_GEMINI_KEY,
    onUpstreamRequest: (body) => sent.push(body),
    ...extra,
  });
  const lastRequest = () => mock.requests[mock.requests.length - 1]!;
  const chat = (partial: Partial<ChatCompletionRequest>) =>
    adapter.chat({ model: 'gemini-2.5-flash', messages: [], ...partial }, ctx());

  beforeAll(async () => {
    mock = await startMockGemini();
    http = new UpstreamHttp();
    const settings: ProviderSettings = {
      id: 'gemini',
      type: 'gemini',
      base_url: mock.baseUrl,
      headers: { 'x-extra': 'yes' },
      timeout_ms: 10_000,
      options: {},
    };
    adapter = geminiAdapter.create(settings, { http });
  });
  beforeEach(() => {
    sent = [];
  });
  afterAll(async () => {
    await http.close();
    await mock.close();
  });

  it('declares its capabilities', () => {
    expect(adapter.type).toBe('gemini');
    expect(adapter.capabilities).toEqual({
      chat: true,
      streaming: 'native',
      completions: false,
      embeddings: true,
      tools: true,
      vision: true,
      listModels: true,
      passthrough: false,
      maxStop: 5,
    });
    expect(
      geminiAdapter.validate?.({
        id: 'g',
        type: 'gemini',
        base_url: 'ftp://x',
        headers: {},
        timeout_ms: 1,
        options: {},
      }),
    ).toEqual(['base_url: must be an http(s) URL']);
  });

  it('chats: sends the key in x-goog-api-key (never in the URL) and reports the exact body', async () => {
    const res = await chat({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello from the gateway' },
      ],
      temperature: 0.2,
    });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0]!.message.content).toBe('hello from the gateway');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 });
    const req = lastRequest();
    expect(req.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(req.path).not.toContain(MOCK_GEMINI_KEY);
    expect(req.headers['x-goog-api-key']).toBe(MOCK_GEMINI_KEY);
    expect(req.headers['x-extra']).toBe('yes');
    expect(sent).toEqual([req.body]);
    expect(req.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'hello from the gateway' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { temperature: 0.2 },
    });
  });

  it('streams: role chunk first, content deltas, finish, then a usage chunk with no choices', async () => {
    const stream = await adapter.streamChat(
      {
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'one two three four five six seven' }],
        stream: true,
      },
      ctx(),
    );
    const chunks = await drain(stream);
    expect(lastRequest().path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect(assemble(chunks)).toMatchObject({
      content: 'one two three four five six seven',
      finish_reason: 'stop',
    });
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 7, total_tokens: 14 });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('runs a tool round trip: functionCall → tool_calls, tool message → functionResponse', async () => {
    const first = await chat({
      messages: [{ role: 'user', content: 'Paris' }],
      tools: [weatherTool],
      tool_choice: 'auto',
    });
    const message = first.choices[0]!.message;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(message.content).toBeNull();
    expect(message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_[A-Za-z0-9]+$/),
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
    ]);
    const decl = (lastRequest().body as { tools: Array<{ functionDeclarations: unknown[] }> }).tools[0]!
      .functionDeclarations[0];
    expect(decl).toEqual({
      name: 'get_weather',
      description: 'Current weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    });

    const second = await chat({
      messages: [
        { role: 'user', content: 'Paris' },
        { role: 'assistant', content: null, tool_calls: message.tool_calls! },
        { role: 'tool', tool_call_id: message.tool_calls![0]!.id, content: '{"temp":21,"sky":"clear"}' },
      ],
      tools: [weatherTool],
    });
    expect(second.choices[0]!.message.content).toBe('Result: {"temp":21,"sky":"clear"}');
    expect(second.choices[0]!.finish_reason).toBe('stop');
  });

  it('keeps thinking across turns: reasoning_content out, signatures back onto the functionCall part', async () => {
    const tools = [weatherTool];
    const first = await chat({
      messages: [{ role: 'user', content: 'Oslo' }],
      tools,
      reasoning_effort: 'low',
    });
    const message = first.choices[0]!.message;
    expect(message.reasoning_content).toBe('Thinking about: Oslo');
    expect(message.thinking_blocks).toEqual([
      { type: 'thinking', thinking: 'Thinking about: Oslo', signature: mock.issuedSignatures.at(-1) },
    ]);
    expect(first.usage?.completion_tokens_details?.reasoning_tokens).toBe(3);
    expect((lastRequest().body as { generationConfig: unknown }).generationConfig).toEqual({
      thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 },
    });

    const history = (assistant: ChatCompletionMessage): ChatCompletionRequest['messages'] => [
      { role: 'user', content: 'Oslo' },
      assistant,
      { role: 'tool', tool_call_id: message.tool_calls![0]!.id, content: '{"temp":3}' },
    ];
    const second = await chat({ messages: history(message), tools, reasoning_effort: 'low' });
    expect(second.choices[0]!.message.content).toBe('Result: {"temp":3}');
    const modelTurn = (lastRequest().body as { contents: Array<{ parts: unknown[] }> }).contents[1]!;
    expect(modelTurn.parts).toEqual([
      {
        functionCall: { name: 'get_weather', args: { city: 'Oslo' } },
        thoughtSignature: mock.issuedSignatures.at(-2),
      },
    ]);

    // Without the kept blocks the mock, like Gemini, refuses the history.
    const { thinking_blocks: _dropped, ...bare } = message;
    const err = await chat({ messages: history(bare), tools, reasoning_effort: 'low' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).status).toBe(400);
    expect((err as UpstreamError).body?.error.message).toMatch(/thought_signature/);
  });

  it('keeps thinking across streamed turns too', async () => {
    const tools = [weatherTool];
    const first = assemble(
      await drain(
        await adapter.streamChat(
          {
            model: 'gemini-2.5-pro',
            messages: [{ role: 'user', content: 'Rome' }],
            tools,
            reasoning_effort: 'medium',
            stream: true,
          },
          ctx(),
        ),
      ),
    );
    expect(first.finish_reason).toBe('tool_calls');
    expect(first.reasoning_content).toBe('Thinking about: Rome');
    expect(first.thinking_blocks?.[0]?.signature).toBe(mock.issuedSignatures.at(-1));
    const { finish_reason: _f, ...assistant } = first;

    const second = assemble(
      await drain(
        await adapter.streamChat(
          {
            model: 'gemini-2.5-pro',
            messages: [
              { role: 'user', content: 'Rome' },
              assistant,
              { role: 'tool', tool_call_id: first.tool_calls![0]!.id, content: 'sunny' },
            ],
            tools,
            reasoning_effort: 'medium',
            stream: true,
          },
          ctx(),
        ),
      ),
    );
    expect(second.content).toBe('Result: {"result":"sunny"}');
    expect(second.reasoning_content).toBe('Thinking about: the conversation');
    // The text answer's signature arrives on its own at the end and goes back on the text part.
    const third = await chat({
      messages: [
        { role: 'user', content: 'Rome' },
        { ...second, content: second.content },
        { role: 'user', content: 'thanks' },
      ],
    });
    expect(third.choices[0]!.message.content).toBe('thanks');
    const modelTurn = (lastRequest().body as { contents: Array<{ parts: unknown[] }> }).contents[1]!;
    expect(modelTurn.parts).toEqual([
      { text: 'Result: {"result":"sunny"}', thoughtSignature: mock.issuedSignatures.at(-1) },
    ]);
  });

  it('sends images: data URLs inline, http URLs as fileData', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]).toString('base64');
    const res = await chat({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'describe' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/photos/cat.jpg' } },
          ],
        },
      ],
    });
    expect(res.choices[0]!.message.content).toBe(
      'describe [image image/png, 8 bytes] [file image/jpeg https://example.com/photos/cat.jpg]',
    );
  });

  it('maps finish reasons: MAX_TOKENS → length, SAFETY and a blocked prompt → content_filter', async () => {
    const short = await chat({ messages: [{ role: 'user', content: 'a b c d e f' }], max_tokens: 3 });
    expect(short.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'a b c' } });
    const unsafe = await chat({ model: 'gemini-safety', messages: [{ role: 'user', content: 'x' }] });
    expect(unsafe.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: '' } });
    const blocked = await chat({ model: 'gemini-blocked', messages: [{ role: 'user', content: 'x' }] });
    expect(blocked.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: '' } });
    const stream = await drain(
      await adapter.streamChat(
        { model: 'gemini-blocked', messages: [{ role: 'user', content: 'x' }], stream: true },
        ctx(),
      ),
    );
    expect(assemble(stream).finish_reason).toBe('content_filter');
  });

  it('asks for n candidates and JSON output', async () => {
    const res = await chat({
      messages: [{ role: 'user', content: 'twice' }],
      n: 2,
      response_format: { type: 'json_object' },
    });
    expect(res.choices.map((c) => [c.index, c.message.content])).toEqual([
      [0, '{"echo":"twice"}'],
      [1, '{"echo":"twice"}'],
    ]);
    expect((lastRequest().body as { generationConfig: unknown }).generationConfig).toEqual({
      candidateCount: 2,
      responseMimeType: 'application/json',
    });
  });

  it('lets a consumer stop reading a stream early and keeps working afterwards', async () => {
    const long = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');
    const stream = await adapter.streamChat(
      { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: long }], stream: true },
      ctx(),
    );
    let seen = 0;
    for await (const _chunk of stream) {
      if (++seen === 3) break;
    }
    expect(seen).toBe(3);
    const next = await chat({ messages: [{ role: 'user', content: 'still here' }] });
    expect(next.choices[0]!.message.content).toBe('still here');
  });

  it('embeds one input with embedContent and a list with batchEmbedContents', async () => {
    const one = await adapter.embeddings!(
      { model: 'gemini-embedding-001', input: 'hello', dimensions: 4 },
      ctx(),
    );
    expect(lastRequest().path).toBe('/v1beta/models/gemini-embedding-001:embedContent');
    expect(lastRequest().body).toEqual({ content: { parts: [{ text: 'hello' }] }, outputDimensionality: 4 });
    expect(one.data[0]!.embedding).toHaveLength(4);
    expect(one.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });

    const many = await adapter.embeddings!({ model: 'gemini-embedding-001', input: ['a', 'b', 'c'] }, ctx());
    expect(lastRequest().path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(many.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(many.data.map((d) => d.embedding.length)).toEqual([8, 8, 8]);
    expect(many.data[0]!.embedding).not.toEqual(many.data[1]!.embedding);

    const b64 = await adapter.embeddings!(
      { model: 'gemini-embedding-001', input: ['a'], encoding_format: 'base64' },
      ctx(),
    );
    const buf = Buffer.from(b64.data[0]!.embedding as unknown as string, 'base64');
    expect(buf.length).toBe(32);
    expect(buf.readFloatLE(0)).toBeCloseTo(many.data[0]!.embedding[0]!, 5);
  });

  it('lists models without the models/ prefix', async () => {
    const models = await adapter.listModels!(ctx());
    expect(models.map((m) => m.id)).toEqual([
      'gemini-2.5-flash',
      'gemini-2.5-pro',
      'gemini-3-pro-preview',
      'gemini-embedding-001',
    ]);
    expect(lastRequest().method).toBe('GET');
    expect(lastRequest().headers['x-goog-api-key']).toBe(MOCK_GEMINI_KEY);
  });

  it.each([
    [400, 'invalid_argument', 'invalid_request_error', false],
    [429, 'resource_exhausted', 'rate_limit_error', true],
    [500, 'internal', 'api_error', true],
    [503, 'unavailable', 'api_error', true],
  ])('maps an upstream %i to an UpstreamError in OpenAI shape', async (status, code, type, retryable) => {
    mock.failNext(status);
    const err = await chat({ messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    const e = err as UpstreamError;
    expect(e.status).toBe(status);
    expect(e.retryable).toBe(retryable);
    expect(e.body).toEqual({ error: { message: expect.any(String), type, param: null, code } });
    if (status === 429) expect(e.headers['retry-after']).toBe('7');
  });

  it('rejects streamChat before any chunk when the upstream answers non-2xx', async () => {
    const err = await adapter
      .streamChat(
        { model: 'gemini-error-503', messages: [{ role: 'user', content: 'x' }], stream: true },
        ctx(),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).status).toBe(503);
    expect((err as UpstreamError).body?.error.code).toBe('unavailable');
  });

  it('surfaces a wrong key as a 400 without echoing the key', async () => {
    const err = await adapter
      .chat(
        { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] },
        ctx({ apiKey: 'secret-wrong-key' }),
      )
      .catch((e: unknown) => e);
    expect((err as UpstreamError).status).toBe(400);
    expect((err as UpstreamError).message).toMatch(/API key not valid/);
    expect(JSON.stringify((err as UpstreamError).body)).not.toContain('secret-wrong-key');
  });

  it('aborts the upstream call when the signal fires', async () => {
    const controller = new AbortController();
    controller.abort(new Error('client went away'));
    await expect(
      adapter.chat(
        { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] },
        ctx({ signal: controller.signal }),
      ),
    ).rejects.toThrow('client went away');
  });
});

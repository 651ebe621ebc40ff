import { UpstreamError } from '../../common/errors';
import { UpstreamHttp } from '../../common/http';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../common/openai.types';
import { reassembleChatStream } from '../../common/reassemble';
import {
  MOCK_ANTHROPIC_KEY,
  MOCK_ANTHROPIC_MODELS,
  startMockAnthropic,
} from '../../../test/support/mock-anthropic';
import type { MockAnthropic } from '../../../test/support/mock-anthropic';
import type { CallContext, ProviderAdapter, ProviderSettings } from '../adapter.interface';
import { anthropicAdapter } from './anthropic.adapter';

const weatherTool: NonNullable<ChatCompletionRequest['tools']>[number] = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

async function caught(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return err as UpstreamError;
  }
  throw new Error('expected an UpstreamError');
}

describe('anthropic adapter (against the mock Messages API)', () => {
  let mock: MockAnthropic;
  let http: UpstreamHttp;
  let adapter: ProviderAdapter;
  let sent: unknown[];

  const ctx = (over: Partial<CallContext> = {}): CallContext => ({
    signal: new AbortController().signal,
    requestId: 'r1',
    apiKey: MOCK_ANTHROPIC_KEY,
    onUpstreamRequest: (body) => sent.push(body),
    ...over,
  });

  beforeAll(async () => {
    mock = await startMockAnthropic();
    http = new UpstreamHttp();
    const settings: ProviderSettings = {
      id: 'claude',
      type: 'anthropic',
      base_url: `${mock.baseUrl}/`,
      headers: { 'x-extra': 'yes' },
      timeout_ms: 10_000,
      options: {},
    };
    adapter = anthropicAdapter.create(settings, { http });
  });
  beforeEach(() => {
    sent = [];
  });
  afterAll(async () => {
    await http.close();
    await mock.close();
  });

  it('describes its capabilities', () => {
    expect(adapter.type).toBe('anthropic');
    expect(adapter.capabilities).toMatchObject({
      chat: true,
      streaming: 'native',
      tools: true,
      vision: true,
      embeddings: false,
      completions: false,
      listModels: true,
      passthrough: false,
    });
    expect(adapter.capabilities.maxStop).toBeUndefined();
  });

  it('chats: POST /v1/messages with the key, version and extra headers; reports the exact body', async () => {
    const res = await adapter.chat(
      {
        model: 'claude-sonnet-4-5',
        messages: [
          { role: 'system', content: 'sys' },
          { role: 'user', content: 'hello adapter' },
        ],
      },
      ctx(),
    );
    expect(res.choices[0]!.message.content).toBe('hello adapter');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.id).toMatch(/^msg_/);
    expect(res.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    const rec = mock.requests[mock.requests.length - 1]!;
    expect(rec.path).toBe('/v1/messages');
    expect(rec.headers['x-api-key']).toBe(MOCK_ANTHROPIC_KEY);
    expect(rec.headers['anthropic-version']).toBe('2023-06-01');
    expect(rec.headers['content-type']).toBe('application/json');
    expect(rec.headers['x-extra']).toBe('yes');
    expect(rec.headers.authorization).toBeUndefined();
    expect(sent).toEqual([rec.body]);
    expect(rec.body).toMatchObject({ system: 'sys', max_tokens: 4096 });
  });

  it('streams: resolves after the 2xx, then yields role, deltas, finish and a last usage chunk', async () => {
    const stream = await adapter.streamChat(
      {
        model: 'claude-sonnet-4-5',
        stream: true,
        messages: [{ role: 'user', content: 'one two three four five' }],
      },
      ctx(),
    );
    const chunks = await collect(stream);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 });
    const done = reassembleChatStream(chunks);
    expect(done.choices[0]!.message.content).toBe('one two three four five');
    expect(done.choices[0]!.finish_reason).toBe('stop');
    expect(mock.requests[mock.requests.length - 1]!.body).toMatchObject({ stream: true });
  });

  it('round-trips tool calls: tool_use → tool_calls, then assistant tool_calls + tool messages back', async () => {
    const messages: ChatCompletionRequest['messages'] = [{ role: 'user', content: 'Paris' }];
    const first = await adapter.chat({ model: 'claude-sonnet-4-5', tools: [weatherTool], messages }, ctx());
    const msg = first.choices[0]!.message;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(msg.tool_calls).toHaveLength(1);
    const call = msg.tool_calls![0] as { id: string; function: { name: string; arguments: string } };
    expect(call.id).toMatch(/^toolu_/);
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });

    messages.push(msg, { role: 'tool', tool_call_id: call.id, content: 'sunny' });
    const second = await adapter.chat({ model: 'claude-sonnet-4-5', tools: [weatherTool], messages }, ctx());
    expect(second.choices[0]!.message.content).toBe('Result: sunny');
  });

  it('streams parallel tool calls with OpenAI indexes 0 and 1 and whole arguments', async () => {
    const other = {
      type: 'function' as const,
      function: {
        name: 'get_time',
        parameters: { type: 'object', properties: { zone: { type: 'string' } } },
      },
    };
    const chunks = await collect(
      await adapter.streamChat(
        {
          model: 'claude-sonnet-4-5',
          stream: true,
          tools: [weatherTool, other],
          messages: [{ role: 'user', content: 'Oslo' }],
        },
        ctx(),
      ),
    );
    const indexes = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls?.map((t) => t.index) ?? []);
    expect(new Set(indexes)).toEqual(new Set([0, 1]));
    const done = reassembleChatStream(chunks);
    const calls = done.choices[0]!.message.tool_calls as Array<{
      function: { name: string; arguments: string };
    }>;
    expect(calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ['get_weather', { city: 'Oslo' }],
      ['get_time', { zone: 'Oslo' }],
    ]);
    expect(done.choices[0]!.finish_reason).toBe('tool_calls');

    await adapter.chat(
      {
        model: 'claude-sonnet-4-5',
        tools: [weatherTool, other],
        parallel_tool_calls: false,
        messages: [{ role: 'user', content: 'x' }],
      },
      ctx(),
    );
    expect(mock.requests[mock.requests.length - 1]!.body).toMatchObject({
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    });
  });

  it('round-trips thinking with signatures across a streamed tool-use turn', async () => {
    const messages: ChatCompletionRequest['messages'] = [{ role: 'user', content: 'Lima' }];
    const chunks = await collect(
      await adapter.streamChat(
        { model: 'claude-sonnet-4-5', stream: true, reasoning_effort: 'low', tools: [weatherTool], messages },
        ctx(),
      ),
    );
    expect(sent[0]).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 4096 });
    const done = reassembleChatStream(chunks);
    const msg = done.choices[0]!.message;
    expect(msg.reasoning_content).toBe('The user wrote: Lima');
    expect(msg.thinking_blocks).toEqual([
      {
        type: 'thinking',
        thinking: 'The user wrote: Lima',
        signature: mock.issuedSignatures[mock.issuedSignatures.length - 1],
      },
    ]);
    const call = msg.tool_calls![0]!;

    messages.push(
      {
        role: 'assistant',
        content: msg.content,
        tool_calls: msg.tool_calls!,
        thinking_blocks: msg.thinking_blocks!,
        reasoning_content: msg.reasoning_content!,
      },
      { role: 'tool', tool_call_id: call.id, content: 'cloudy' },
    );
    const next = await adapter.chat(
      { model: 'claude-sonnet-4-5', reasoning_effort: 'low', tools: [weatherTool], messages },
      ctx(),
    );
    expect(next.choices[0]!.message.content).toBe('Result: cloudy');
    expect(next.choices[0]!.message.thinking_blocks?.[0]?.signature).toBeTruthy();

    // Without its signed blocks the turn cannot be continued: the upstream's 400 comes back as is.
    const unsigned = messages.map((m) => (m.role === 'assistant' ? { ...m, thinking_blocks: [] } : m));
    const err = await caught(
      adapter.chat(
        { model: 'claude-sonnet-4-5', reasoning_effort: 'low', tools: [weatherTool], messages: unsigned },
        ctx(),
      ),
    );
    expect(err.status).toBe(400);
    expect(err.retryable).toBe(false);
  });

  it('sends images as base64 and url sources', async () => {
    const res = await adapter.chat(
      {
        model: 'claude-sonnet-4-5',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'describe' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
            ],
          },
        ],
      },
      ctx(),
    );
    expect(res.choices[0]!.message.content).toBe(
      'describe [image image/png] [image https://example.com/a.jpg]',
    );
  });

  it('passes a 400 on as an UpstreamError 400 in OpenAI shape', async () => {
    mock.failNext(400, 'messages.0.content: bad');
    const err = await caught(
      adapter.chat({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] }, ctx()),
    );
    expect(err.status).toBe(400);
    expect(err.retryable).toBe(false);
    expect(err.body).toEqual({
      error: {
        message: 'messages.0.content: bad',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_request_error',
      },
    });
  });

  it('keeps 529 overloaded (retryable), 429 with retry-after and 401', async () => {
    const overloaded = await caught(
      adapter.chat({ model: 'claude-error-529', messages: [{ role: 'user', content: 'x' }] }, ctx()),
    );
    expect(overloaded).toMatchObject({
      status: 529,
      retryable: true,
      body: { error: { type: 'overloaded_error' } },
    });

    mock.failNext(429);
    const limited = await caught(
      adapter.streamChat(
        { model: 'claude-sonnet-4-5', stream: true, messages: [{ role: 'user', content: 'x' }] },
        ctx(),
      ),
    );
    expect(limited).toMatchObject({ status: 429, retryable: true, headers: { 'retry-after': '7' } });

    const denied = await caught(
      adapter.chat(
        { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] },
        ctx({ apiKey: 'wrong' }),
      ),
    );
    expect(denied).toMatchObject({ status: 401, body: { error: { type: 'authentication_error' } } });
    expect(denied.message).not.toContain('wrong');
  });

  it('throws an error event mid-stream as an UpstreamError 529', async () => {
    const stream = await adapter.streamChat(
      { model: 'claude-midstream-error', stream: true, messages: [{ role: 'user', content: 'a b c' }] },
      ctx(),
    );
    const err = await caught(collect(stream));
    expect(err).toMatchObject({ status: 529, retryable: true });
  });

  it('lists models in OpenAI format', async () => {
    const models = await adapter.listModels!(ctx());
    expect(models.map((m) => m.id)).toEqual(MOCK_ANTHROPIC_MODELS.map((m) => m.id));
    expect(models[0]).toMatchObject({ object: 'model', owned_by: 'anthropic' });
    expect(mock.requests[mock.requests.length - 1]!.path).toBe('/v1/models?limit=1000');
  });

  it('validates its settings', () => {
    const s = { id: 'c', type: 'anthropic', headers: {}, timeout_ms: 1, options: {} };
    expect(anthropicAdapter.validate!({ ...s, base_url: 'api.anthropic.com' })).toEqual([
      'base_url: must be an http(s) URL',
    ]);
    expect(anthropicAdapter.validate!({ ...s, default_max_tokens: 0 })).toHaveLength(1);
    expect(anthropicAdapter.validate!(s)).toEqual([]);
  });
});

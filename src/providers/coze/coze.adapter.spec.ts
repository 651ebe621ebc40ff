import { UpstreamError } from '../../common/errors';
import { UpstreamHttp } from '../../common/http';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../common/openai.types';
import { MOCK_COZE_TOKEN, startMockCoze } from '../../../test/support/mock-coze';
import type { MockCoze } from '../../../test/support/mock-coze';
import type { CallContext, ProviderAdapter, ProviderSettings } from '../adapter.interface';
import { cozeAdapter } from './coze.adapter';

describe('coze adapter against the Coze mock', () => {
  let mock: MockCoze;
  let http: UpstreamHttp;
  let adapter: ProviderAdapter;
  let sent: unknown[];

  const settings = (over: Partial<ProviderSettings> = {}): ProviderSettings => ({
    id: 'coze',
    type: 'coze',
    base_url: mock.baseUrl,
    api_key: MOCK_COZE_TOKEN,
    headers: { 'x-extra': 'yes' },
    timeout_ms: 10_000,
    options: {},
    ...over,
  });

  const context = (over: Partial<CallContext> = {}): CallContext => ({
    signal: new AbortController().signal,
    requestId: 'req-1',
    apiKey: MOCK_COZE_TOKEN,
    keyId: 'key-1',
    onUpstreamRequest: (body) => sent.push(body),
    ...over,
  });

  const withoutKeyId = (): CallContext => {
    const { keyId: _keyId, ...rest } = context();
    return rest;
  };

  const withoutApiKey = (): CallContext => {
    const { apiKey: _apiKey, ...rest } = context();
    return rest;
  };

  const ask = (
    model: string,
    text: string,
    extra: Partial<ChatCompletionRequest> = {},
  ): ChatCompletionRequest => ({
    model,
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: text },
    ],
    ...extra,
  });

  async function drain(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
    const out: ChatCompletionChunk[] = [];
    for await (const c of stream) out.push(c);
    return out;
  }

  async function rejection(run: () => Promise<unknown>): Promise<UpstreamError> {
    try {
      await run();
    } catch (err) {
      if (err instanceof UpstreamError) return err;
      throw err;
    }
    throw new Error('expected an UpstreamError');
  }

  const chatPaths = () => mock.requests.map((r) => `${r.method} ${r.path.split('?')[0] ?? ''}`);

  beforeAll(async () => {
    mock = await startMockCoze({ completeAfterMs: 50 });
    http = new UpstreamHttp();
    adapter = cozeAdapter.create(settings(), { http });
  });

  beforeEach(() => {
    sent = [];
    mock.requests.length = 0;
  });

  afterAll(async () => {
    await http.close();
    await mock.close();
  });

  it('declares the coze capabilities', () => {
    expect(adapter.type).toBe('coze');
    expect(adapter.capabilities).toEqual({
      chat: true,
      streaming: 'native',
      completions: false,
      embeddings: false,
      tools: false,
      vision: true,
      listModels: false,
      passthrough: false,
    });
  });

  describe('streamChat', () => {
    it('streams the echoed answer, then stop, then usage, and reports the exact body sent', async () => {
      const chunks = await drain(
        await adapter.streamChat(ask('coze/bot-1', 'hello there friend'), context()),
      );
      expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
      const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
      expect(text).toBe('hello there friend');
      const finish = chunks.at(-2);
      expect(finish?.choices[0]?.finish_reason).toBe('stop');
      expect(chunks.at(-1)).toMatchObject({
        choices: [],
        usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
      });
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      expect(chunks[0]?.model).toBe('coze/bot-1');

      const upstream = mock.requests[0]!;
      expect(upstream.method).toBe('POST');
      expect(upstream.path).toBe('/v3/chat');
      expect(upstream.headers.authorization).toBe(`Bearer ${MOCK_COZE_TOKEN}`);
      expect(upstream.headers['x-extra']).toBe('yes');
      expect(sent).toEqual([upstream.body]);
      expect(upstream.body).toEqual({
        bot_id: 'bot-1',
        user_id: 'key-1',
        stream: true,
        auto_save_history: true,
        additional_messages: [{ role: 'user', content: 'hello there friend', content_type: 'text' }],
      });
    });

    it('forwards reasoning deltas as reasoning_content', async () => {
      const chunks = await drain(
        await adapter.streamChat(ask('bot-reasoning', 'why is the sky blue'), context()),
      );
      const reasoning = chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('');
      const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
      expect(reasoning).toBe('thinking about: why is the sky blue');
      expect(content).toBe('why is the sky blue');
    });

    it('throws a chat that fails before any output from streamChat itself', async () => {
      const err = await rejection(() => adapter.streamChat(ask('bot-chat-failed', 'hi'), context()));
      expect(err.status).toBe(500);
      expect(err.retryable).toBe(true);
      expect(err.body?.error).toMatchObject({
        message: 'chat failed: the bot failed to answer',
        code: '5000',
      });
    });

    it('throws an error event that comes after output while iterating', async () => {
      const stream = await adapter.streamChat(ask('bot-stream-error', 'one two three four'), context());
      const seen: string[] = [];
      const err = await rejection(async () => {
        for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? '');
      });
      expect(seen.join('')).toBe('one two ');
      expect(err.body?.error.message).toBe('internal error while streaming');
    });

    it('refuses a wrong token with 401 before streaming', async () => {
      const err = await rejection(() =>
        adapter.streamChat(ask('bot-1', 'hi'), context({ apiKey: 'pat_wrong' })),
      );
      expect(err.status).toBe(401);
      expect(err.body?.error).toMatchObject({ type: 'authentication_error', code: '4100' });
      expect(err.message).not.toContain('pat_wrong');
    });

    it('maps a 200 reply with a rate-limit code to 429', async () => {
      const err = await rejection(() => adapter.streamChat(ask('bot-rate-limit', 'hi'), context()));
      expect(err.status).toBe(429);
      expect(err.retryable).toBe(true);
    });
  });

  describe('chat (create, poll, list)', () => {
    it('polls the chat until completed and answers from the message list', async () => {
      const completion = await adapter.chat(ask('bot-1', 'what time is it', { user: 'alice' }), context());
      expect(completion).toMatchObject({
        object: 'chat.completion',
        model: 'bot-1',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'what time is it' },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 },
      });
      const paths = chatPaths();
      expect(paths[0]).toBe('POST /v3/chat');
      expect(paths.filter((p) => p === 'GET /v3/chat/retrieve').length).toBeGreaterThanOrEqual(1);
      expect(paths.at(-1)).toBe('GET /v3/chat/message/list');
      const chatId = completion.id.replace(/^chatcmpl-/, '');
      expect(mock.chats.get(chatId)?.user_id).toBe('alice');
      expect(sent).toEqual([mock.requests[0]?.body]);
      expect(sent[0]).toMatchObject({ stream: false, auto_save_history: true, user_id: 'alice' });
      for (const r of mock.requests) expect(r.headers.authorization).toBe(`Bearer ${MOCK_COZE_TOKEN}`);
    });

    it('sends images as object_string and joins several answers', async () => {
      const completion = await adapter.chat(
        {
          model: 'bot-two-answers',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'look' },
                { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
              ],
            },
          ],
        },
        withoutKeyId(),
      );
      expect(completion.choices[0]?.message.content).toBe(
        'first: look [image https://example.com/cat.png]\n\nsecond: look [image https://example.com/cat.png]',
      );
      expect(sent[0]).toMatchObject({
        user_id: 'gateway',
        additional_messages: [{ role: 'user', content_type: 'object_string' }],
      });
    });

    it('throws a failed chat with its last_error', async () => {
      const err = await rejection(() => adapter.chat(ask('bot-chat-failed', 'hi'), context()));
      expect(err.status).toBe(500);
      expect(err.body?.error.message).toBe('chat failed: the bot failed to answer');
    });

    it.each([
      ['bot-no-permission', 401, 'authentication_error'],
      ['bot-rate-limit', 429, 'rate_limit_error'],
      ['bot-http-429', 429, 'rate_limit_error'],
    ])('maps the error of %s to %i', async (bot, status, type) => {
      const err = await rejection(() => adapter.chat(ask(bot, 'hi'), context()));
      expect(err.status).toBe(status);
      expect(err.kind).toBe('http');
      expect(err.body?.error.type).toBe(type);
    });

    it('gives a timeout error when the chat does not end within timeout_ms, and cancels it', async () => {
      const quick = cozeAdapter.create(settings({ timeout_ms: 300 }), { http });
      const started = Date.now();
      const err = await rejection(() => quick.chat(ask('bot-never-done', 'hi'), context()));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(err.kind).toBe('timeout');
      expect(err.status).toBeNull();
      expect(err.retryable).toBe(true);
      expect(chatPaths().at(-1)).toBe('POST /v3/chat/cancel');
      const chat = [...mock.chats.values()].find((c) => c.bot_id === 'bot-never-done');
      expect(chat?.canceled).toBe(true);
    });

    it('stops polling when the caller aborts, with the abort reason', async () => {
      const controller = new AbortController();
      const reason = new Error('client went away');
      setTimeout(() => controller.abort(reason), 100);
      await expect(
        adapter.chat(ask('bot-never-done', 'hi'), context({ signal: controller.signal })),
      ).rejects.toBe(reason);
      expect(chatPaths()).not.toContain('POST /v3/chat/cancel');
    });
  });

  it('sends no authorization header when there is no key, and gets 401', async () => {
    const err = await rejection(() => adapter.chat(ask('bot-1', 'hi'), withoutApiKey()));
    expect(err.status).toBe(401);
    expect(mock.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('validates base_url', () => {
    expect(cozeAdapter.validate?.(settings({ base_url: 'ftp://x' }))).toEqual([
      'base_url: must be an http(s) URL',
    ]);
    expect(cozeAdapter.validate?.(settings())).toEqual([]);
  });
});

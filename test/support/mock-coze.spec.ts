/**
 * The Coze mock driven by the official `@coze/api` SDK: if the SDK can talk to it, the mock
 * speaks the wire format the adapter will meet.
 */
import {
  AuthenticationError,
  ChatEventType,
  ChatStatus,
  CozeAPI,
  PermissionDeniedError,
  RateLimitError,
  RoleType,
} from '@coze/api';
import { FAILED_CHAT_ERROR, MOCK_COZE_TOKEN, startMockCoze } from './mock-coze';
import type { MockCoze } from './mock-coze';

describe('mock Coze v3 API (driven by @coze/api)', () => {
  let mock: MockCoze;
  let client: CozeAPI;

  beforeAll(async () => {
    mock = await startMockCoze();
    client = new CozeAPI({ token: MOCK_COZE_TOKEN, baseURL: mock.baseUrl });
  });

  afterAll(async () => {
    await mock.close();
  });

  const hello = [{ role: RoleType.User, content: 'hello there, bot', content_type: 'text' as const }];

  it('streams the documented events in order and echoes the last user message', async () => {
    const events: string[] = [];
    let text = '';
    let usage: unknown;
    for await (const part of client.chat.stream({
      bot_id: 'bot-1',
      user_id: 'u1',
      additional_messages: hello,
    })) {
      events.push(part.event);
      if (part.event === ChatEventType.CONVERSATION_MESSAGE_DELTA && part.data.type === 'answer')
        text += part.data.content;
      if (part.event === ChatEventType.CONVERSATION_CHAT_COMPLETED) usage = part.data.usage;
    }
    expect(text).toBe('hello there, bot');
    expect(events[0]).toBe('conversation.chat.created');
    expect(events[1]).toBe('conversation.chat.in_progress');
    expect(events.filter((e) => e === 'conversation.message.delta')).toHaveLength(2);
    expect(events.slice(-2)).toEqual(['conversation.chat.completed', 'done']);
    expect(usage).toEqual({ token_count: 6, output_count: 3, input_count: 3 });
    const sent = mock.requests.at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${MOCK_COZE_TOKEN}`);
    expect(sent.body).toMatchObject({ bot_id: 'bot-1', user_id: 'u1', stream: true });
  });

  it('creates a chat that completes after polling, with the answer in the message list', async () => {
    const result = await client.chat.createAndPoll({
      bot_id: 'bot-1',
      user_id: 'u1',
      auto_save_history: true,
      additional_messages: [
        { role: RoleType.User, content: 'first question', content_type: 'text' },
        { role: RoleType.Assistant, content: 'first answer', content_type: 'text', type: 'answer' },
        {
          role: RoleType.User,
          content: JSON.stringify([
            { type: 'text', text: 'what is this' },
            { type: 'image', file_url: 'https://example.com/cat.png' },
          ]),
          content_type: 'object_string',
        },
      ],
    });
    expect(result.chat.status).toBe(ChatStatus.COMPLETED);
    const answers = (result.messages ?? []).filter((m) => m.type === 'answer');
    expect(answers.map((m) => m.content)).toEqual(['what is this [image https://example.com/cat.png]']);
    expect(result.chat.usage).toMatchObject({ output_count: 5 });
    const paths = mock.requests.slice(-3).map((r) => r.path.split('?')[0]);
    expect(paths).toContain('/v3/chat/retrieve');
    expect(paths.at(-1)).toBe('/v3/chat/message/list');
  });

  it('reports a chat that failed with its last_error', async () => {
    const result = await client.chat.createAndPoll({
      bot_id: 'bot-chat-failed',
      user_id: 'u1',
      additional_messages: hello,
    });
    expect(result.chat.status).toBe(ChatStatus.FAILED);
    expect(result.chat.last_error).toEqual(FAILED_CHAT_ERROR);
  });

  it('sends conversation.chat.failed in a stream of a failing bot', async () => {
    const events: string[] = [];
    for await (const part of client.chat.stream({
      bot_id: 'bot-chat-failed',
      user_id: 'u1',
      additional_messages: hello,
    })) {
      events.push(part.event);
    }
    expect(events).toEqual([
      'conversation.chat.created',
      'conversation.chat.in_progress',
      'conversation.chat.failed',
      'done',
    ]);
  });

  it('refuses a wrong token with code 4100', async () => {
    const wrong = new CozeAPI({ token: 'pat_wrong', baseURL: mock.baseUrl });
    await expect(
      wrong.chat.create({ bot_id: 'bot-1', user_id: 'u1', additional_messages: hello }),
    ).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('injects permission and rate-limit codes by bot id', async () => {
    await expect(
      client.chat.create({ bot_id: 'bot-no-permission', user_id: 'u1', additional_messages: hello }),
    ).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(
      client.chat.create({ bot_id: 'bot-rate-limit', user_id: 'u1', additional_messages: hello }),
    ).rejects.toMatchObject({ code: 4013 });
    await expect(
      client.chat.create({ bot_id: 'bot-rate-limit', user_id: 'u1', additional_messages: hello }),
    ).rejects.toBeInstanceOf(RateLimitError);
  });

  it('refuses a stream with a JSON error before any event', async () => {
    const run = async () => {
      for await (const _ of client.chat.stream({
        bot_id: 'bot-http-429',
        user_id: 'u1',
        additional_messages: hello,
      }))
        void _;
    };
    await expect(run()).rejects.toBeInstanceOf(RateLimitError);
  });

  it('fails the next chat creation when told to, with the Coze code for the status', async () => {
    mock.failNext(500);
    await expect(
      client.chat.create({ bot_id: 'bot-1', user_id: 'u1', additional_messages: hello }),
    ).rejects.toThrow(/internal server error/);
    const ok = await client.chat.create({ bot_id: 'bot-1', user_id: 'u1', additional_messages: hello });
    expect(ok.id).toBeTruthy();
  });
});

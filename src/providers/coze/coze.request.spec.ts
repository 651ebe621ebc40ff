import { GatewayError } from '../../common/errors';
import type { ChatCompletionRequest } from '../../common/openai.types';
import { botIdFrom, toCozeRequest, userIdFor } from './coze.request';

function request(
  messages: ChatCompletionRequest['messages'],
  extra: Partial<ChatCompletionRequest> = {},
): ChatCompletionRequest {
  return { model: 'bot-1', messages, ...extra };
}

const opts = { botId: 'bot-1', userId: 'u', stream: false };

describe('toCozeRequest', () => {
  it('drops system and developer messages, keeping user and assistant turns in order', () => {
    const body = toCozeRequest(
      request([
        { role: 'system', content: 'be brief' },
        { role: 'developer', content: 'no jokes' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'how are you?' },
      ]),
      opts,
    );
    expect(body).toEqual({
      bot_id: 'bot-1',
      user_id: 'u',
      stream: false,
      auto_save_history: true,
      additional_messages: [
        { role: 'user', content: 'hi', content_type: 'text' },
        { role: 'assistant', content: 'hello', content_type: 'text', type: 'answer' },
        { role: 'user', content: 'how are you?', content_type: 'text' },
      ],
    });
  });

  it('refuses tools and data URL images with a 400 naming the parameter', () => {
    const opts = { botId: 'b', userId: 'u', stream: false };
    expect(() =>
      toCozeRequest(
        {
          model: 'b',
          messages: [{ role: 'user', content: 'hi' }],
          tools: [{ type: 'function', function: { name: 'f' } }],
        },
        opts,
      ),
    ).toThrow(expect.objectContaining({ status: 400, param: 'tools' }));
    expect(() =>
      toCozeRequest(
        {
          model: 'b',
          messages: [
            {
              role: 'user',
              content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }],
            },
          ],
        },
        opts,
      ),
    ).toThrow(expect.objectContaining({ status: 400, param: 'messages[0].content' }));
  });

  it('sends a user message with images as an object_string of text and image items', () => {
    const body = toCozeRequest(
      request([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is in it?' },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'high' } },
          ],
        },
      ]),
      opts,
    );
    const [message] = body.additional_messages;
    expect(message).toMatchObject({ role: 'user', content_type: 'object_string' });
    expect(JSON.parse(message!.content)).toEqual([
      { type: 'text', text: 'what is in it?' },
      { type: 'image', file_url: 'https://example.com/a.png' },
    ]);
  });

  it('joins a user message made of text parts only into plain text', () => {
    const body = toCozeRequest(
      request([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'one' },
            { type: 'text', text: 'two' },
          ],
        },
      ]),
      opts,
    );
    expect(body.additional_messages).toEqual([{ role: 'user', content: 'one\ntwo', content_type: 'text' }]);
  });

  it('leaves out tool traffic and assistant turns without text', () => {
    const body = toCozeRequest(
      request([
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
        { role: 'assistant', content: [{ type: 'text', text: 'It is sunny.' }] },
        { role: 'user', content: 'thanks' },
      ]),
      opts,
    );
    expect(body.additional_messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'weather?'],
      ['assistant', 'It is sunny.'],
      ['user', 'thanks'],
    ]);
  });

  it('refuses a request with no user message, and audio or file parts, as 400', () => {
    expect(() => toCozeRequest(request([{ role: 'system', content: 'x' }]), opts)).toThrow(GatewayError);
    const audio = () =>
      toCozeRequest(
        request([
          { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] },
        ]),
        opts,
      );
    expect(audio).toThrow(expect.objectContaining({ status: 400, param: 'messages[0].content' }));
  });

  it('sets stream as asked', () => {
    expect(toCozeRequest(request([{ role: 'user', content: 'x' }]), { ...opts, stream: true }).stream).toBe(
      true,
    );
  });
});

describe('userIdFor', () => {
  const req = request([{ role: 'user', content: 'x' }]);
  it('takes the request user first', () => {
    expect(userIdFor({ ...req, user: 'alice' }, 'key-1')).toBe('alice');
  });
  it('falls back to the client key id', () => {
    expect(userIdFor(req, 'key-1')).toBe('key-1');
  });
  it('falls back to "gateway" when there is neither', () => {
    expect(userIdFor(req, undefined)).toBe('gateway');
    expect(userIdFor({ ...req, user: '' }, undefined)).toBe('gateway');
  });
});

describe('botIdFrom', () => {
  it('takes the model as the bot id', () => {
    expect(botIdFrom('7490858512726458380')).toBe('7490858512726458380');
  });
  it('strips a coze/ prefix', () => {
    expect(botIdFrom('coze/7490858512726458380')).toBe('7490858512726458380');
  });
  it('refuses an empty bot id', () => {
    expect(() => botIdFrom('coze/')).toThrow(expect.objectContaining({ status: 400, param: 'model' }));
    expect(() => botIdFrom(undefined)).toThrow(GatewayError);
  });
});

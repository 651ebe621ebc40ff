import { UpstreamError } from '../../common/errors';
import { chatFailedError, cozeError, mapUsage, toChatCompletion, unwrapEnvelope } from './coze.response';
import type { CozeChat, CozeMessage } from './coze.types';

function thrown(run: () => unknown): UpstreamError {
  try {
    run();
  } catch (err) {
    if (err instanceof UpstreamError) return err;
    throw err;
  }
  throw new Error('expected an UpstreamError');
}

describe('unwrapEnvelope', () => {
  it('returns data when code is 0', () => {
    expect(unwrapEnvelope(200, { code: 0, msg: '', data: { id: '1' } })).toEqual({ id: '1' });
  });

  it.each([
    [4100, 401, 'authentication_error'],
    [4101, 401, 'authentication_error'],
    [4013, 429, 'rate_limit_error'],
    [4029, 429, 'rate_limit_error'],
    [4000, 400, 'invalid_request_error'],
  ])('maps a 200 with code %i to status %i', (code, status, type) => {
    const err = thrown(() => unwrapEnvelope(200, { code, msg: 'nope' }));
    expect(err.status).toBe(status);
    expect(err.kind).toBe('http');
    expect(err.body).toEqual({ error: { message: 'nope', type, param: null, code: String(code) } });
  });

  it('keeps the HTTP status of an error reply', () => {
    const err = thrown(() => unwrapEnvelope(503, { code: 5000, msg: 'busy' }, { 'retry-after': '3' }));
    expect(err.status).toBe(503);
    expect(err.retryable).toBe(true);
    expect(err.headers).toEqual({ 'retry-after': '3' });
    expect(err.message).toContain('busy');
  });

  it('treats a success without data as a protocol error', () => {
    expect(thrown(() => unwrapEnvelope(200, { code: 0, msg: '' })).kind).toBe('protocol');
  });
});

describe('cozeError and chatFailedError', () => {
  it('names a default message when msg is empty', () => {
    expect(cozeError(502, undefined, '').body?.error.message).toBe('upstream coze answered HTTP 502');
  });

  it('makes a failed chat a retryable 500 carrying last_error', () => {
    const err = chatFailedError({ last_error: { code: 5000, msg: 'model overloaded' } });
    expect(err.status).toBe(500);
    expect(err.retryable).toBe(true);
    expect(err.body?.error).toMatchObject({ message: 'chat failed: model overloaded', code: '5000' });
  });
});

describe('toChatCompletion', () => {
  const chat: CozeChat = {
    id: '42',
    conversation_id: '7',
    status: 'completed',
    usage: { token_count: 30, input_count: 20, output_count: 10 },
  };
  const base = { role: 'assistant' as const, content_type: 'text' };

  it('takes only the answer messages, with reasoning and usage', () => {
    const messages: CozeMessage[] = [
      { ...base, role: 'user', type: 'question', content: 'hi' },
      { ...base, type: 'answer', content: 'Hello!', reasoning_content: 'greet back' },
      { ...base, type: 'verbose', content: '{"msg_type":"generate_answer_finish"}' },
      { ...base, type: 'follow_up', content: 'More?' },
    ];
    expect(toChatCompletion(chat, messages, 'bot-1', 100)).toEqual({
      id: 'chatcmpl-42',
      object: 'chat.completion',
      created: 100,
      model: 'bot-1',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello!', refusal: null, reasoning_content: 'greet back' },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 },
    });
  });

  it('joins several answers with a blank line', () => {
    const messages: CozeMessage[] = [
      { ...base, type: 'answer', content: 'one' },
      { ...base, type: 'answer', content: 'two' },
    ];
    expect(toChatCompletion(chat, messages, 'bot-1', 1).choices[0]?.message.content).toBe('one\n\ntwo');
  });

  it('sums input and output when token_count is absent', () => {
    expect(mapUsage({ input_count: 2, output_count: 3 })).toEqual({
      prompt_tokens: 2,
      completion_tokens: 3,
      total_tokens: 5,
    });
    expect(mapUsage(null)).toBeUndefined();
  });
});

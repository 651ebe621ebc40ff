import {
  fromAnthropicResponse,
  mapAnthropicError,
  mapStopReason,
  mapUsage,
  statusForErrorType,
  toModels,
} from './anthropic.response';
import type { AnthropicResponse } from './anthropic.types';

const base: AnthropicResponse = {
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [],
  stop_reason: 'end_turn',
  usage: { input_tokens: 10, output_tokens: 5 },
};

describe('fromAnthropicResponse', () => {
  it('joins text blocks into content and maps usage', () => {
    const res = fromAnthropicResponse(
      {
        ...base,
        content: [
          { type: 'text', text: 'Hello ' },
          { type: 'text', text: 'world' },
        ],
      },
      { created: 42 },
    );
    expect(res).toEqual({
      id: 'msg_01',
      object: 'chat.completion',
      created: 42,
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello world', refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
  });

  it('turns tool_use blocks into tool_calls with JSON arguments', () => {
    const res = fromAnthropicResponse(
      {
        ...base,
        stop_reason: 'tool_use',
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'now', input: {} },
        ],
      },
      { created: 1 },
    );
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'toolu_2', type: 'function', function: { name: 'now', arguments: '{}' } },
    ]);
  });

  it('keeps thinking as reasoning_content and signed thinking_blocks', () => {
    const res = fromAnthropicResponse(
      {
        ...base,
        content: [
          { type: 'thinking', thinking: 'Let me see.', signature: 'sig' },
          { type: 'redacted_thinking', data: 'opaque' },
          { type: 'text', text: '4' },
          { type: 'server_tool_use', id: 'x' },
        ],
      },
      { created: 1 },
    );
    expect(res.choices[0]!.message).toEqual({
      role: 'assistant',
      content: '4',
      refusal: null,
      reasoning_content: 'Let me see.',
      thinking_blocks: [
        { type: 'thinking', thinking: 'Let me see.', signature: 'sig' },
        { type: 'redacted_thinking', data: 'opaque' },
      ],
    });
  });
});

describe('mapStopReason', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
    ['something_new', 'stop'],
    [null, 'stop'],
  ])('maps %s to %s', (reason, finish) => {
    expect(mapStopReason(reason)).toBe(finish);
  });
});

describe('mapUsage', () => {
  it('counts cache reads and writes in prompt_tokens and reports reads as cached_tokens', () => {
    expect(
      mapUsage({
        input_tokens: 12,
        cache_read_input_tokens: 2048,
        cache_creation_input_tokens: 100,
        output_tokens: 7,
      }),
    ).toEqual({
      prompt_tokens: 2160,
      completion_tokens: 7,
      total_tokens: 2167,
      prompt_tokens_details: { cached_tokens: 2048 },
    });
    expect(mapUsage({ input_tokens: 1, cache_read_input_tokens: null, output_tokens: 1 }).prompt_tokens).toBe(
      1,
    );
  });
});

describe('mapAnthropicError', () => {
  it.each([
    [400, 'invalid_request_error', 'invalid_request_error'],
    [401, 'authentication_error', 'authentication_error'],
    [403, 'permission_error', 'permission_error'],
    [404, 'not_found_error', 'invalid_request_error'],
    [429, 'rate_limit_error', 'rate_limit_error'],
    [500, 'api_error', 'api_error'],
    [529, 'overloaded_error', 'overloaded_error'],
  ])('maps HTTP %i %s into OpenAI shape (type %s, code kept)', (status, type, openaiType) => {
    const body = mapAnthropicError(status, {
      type: 'error',
      error: { type, message: 'why' },
      request_id: 'req_1',
    });
    expect(body).toEqual({ error: { message: 'why', type: openaiType, param: null, code: type } });
  });

  it('uses the text of a body that is not JSON', () => {
    expect(mapAnthropicError(502, null, 'Bad Gateway')).toEqual({
      error: { message: 'Bad Gateway', type: 'api_error', param: null, code: null },
    });
    expect(mapAnthropicError(529, null, '').error).toMatchObject({ type: 'overloaded_error' });
  });

  it('gives stream error types their HTTP status', () => {
    expect(statusForErrorType('overloaded_error')).toBe(529);
    expect(statusForErrorType('rate_limit_error')).toBe(429);
    expect(statusForErrorType('api_error')).toBe(500);
    expect(statusForErrorType('invalid_request_error')).toBe(400);
    expect(statusForErrorType(undefined)).toBe(500);
  });
});

describe('toModels', () => {
  it('lists models in OpenAI format', () => {
    expect(
      toModels([{ type: 'model', id: 'claude-x', display_name: 'X', created_at: '2025-02-19T00:00:00Z' }]),
    ).toEqual([{ id: 'claude-x', object: 'model', created: 1739923200, owned_by: 'anthropic' }]);
  });
});

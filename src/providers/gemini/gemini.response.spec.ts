import type { IdSource } from './gemini.response';
import {
  fromGeminiResponse,
  mapFinishReason,
  mapGeminiError,
  mapUsage,
  randomIds,
  retryAfterSeconds,
  toEmbeddingResponse,
  toModels,
} from './gemini.response';

function counterIds(): IdSource {
  let n = 0;
  return { toolCallId: () => `call_${++n}`, completionId: (rid) => `chatcmpl-${rid ?? 'gen'}` };
}

const ctx = () => ({ model: 'gemini-2.5-flash', created: 1700000000, ids: counterIds() });

describe('fromGeminiResponse', () => {
  it('maps a text candidate, the envelope and usage', () => {
    const out = fromGeminiResponse(
      {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'Hello ' }, { text: 'world' }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 7 },
        modelVersion: 'gemini-2.5-flash-001',
        responseId: 'r1',
      },
      ctx(),
    );
    expect(out).toEqual({
      id: 'chatcmpl-r1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'gemini-2.5-flash-001',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello world', refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 5,
        completion_tokens: 2,
        total_tokens: 7,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
  });

  it('maps functionCall parts to tool calls with call_ ids and STOP to tool_calls', () => {
    const out = fromGeminiResponse(
      {
        candidates: [
          {
            content: {
              parts: [
                { text: 'thinking about it', thought: true },
                { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-A' },
                { functionCall: { name: 'get_time' } },
              ],
            },
            finishReason: 'STOP',
          },
        ],
      },
      ctx(),
    );
    expect(out.choices[0]).toEqual({
      index: 0,
      finish_reason: 'tool_calls',
      logprobs: null,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        reasoning_content: 'thinking about it',
        thinking_blocks: [{ type: 'thinking', thinking: 'thinking about it', signature: 'sig-A' }],
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
    });
    expect(out.usage).toBeUndefined();
  });

  it('maps each candidate to a choice by index', () => {
    const out = fromGeminiResponse(
      {
        candidates: [
          { index: 0, content: { parts: [{ text: 'a' }] }, finishReason: 'MAX_TOKENS' },
          { index: 1, finishReason: 'SAFETY' },
        ],
      },
      ctx(),
    );
    expect(out.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, 'a', 'length'],
      [1, '', 'content_filter'],
    ]);
  });

  it('answers a blocked prompt with empty content and content_filter', () => {
    const out = fromGeminiResponse(
      { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 4 } },
      ctx(),
    );
    expect(out.choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: '', refusal: null },
        finish_reason: 'content_filter',
        logprobs: null,
      },
    ]);
    expect(out.usage?.prompt_tokens).toBe(4);
    expect(out.usage?.total_tokens).toBe(4);
  });
});

describe('mapFinishReason', () => {
  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', true, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['BLOCKLIST', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['SPII', false, 'content_filter'],
    ['OTHER', false, 'stop'],
    [undefined, false, 'stop'],
  ] as const)('%s (tool calls: %s) → %s', (reason, calls, expected) => {
    expect(mapFinishReason(reason, calls)).toBe(expected);
  });
});

describe('mapUsage', () => {
  it('adds thoughts to completion tokens and reports cached and reasoning counts', () => {
    expect(
      mapUsage({
        promptTokenCount: 100,
        candidatesTokenCount: 20,
        thoughtsTokenCount: 30,
        cachedContentTokenCount: 64,
        totalTokenCount: 150,
      }),
    ).toEqual({
      prompt_tokens: 100,
      completion_tokens: 50,
      total_tokens: 150,
      prompt_tokens_details: { cached_tokens: 64 },
      completion_tokens_details: { reasoning_tokens: 30 },
    });
    expect(mapUsage(undefined)).toBeUndefined();
  });
});

describe('errors', () => {
  it('maps Gemini error bodies to OpenAI error bodies', () => {
    expect(
      mapGeminiError(
        429,
        { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } },
        '',
      ),
    ).toEqual({
      error: { message: 'Quota exceeded', type: 'rate_limit_error', param: null, code: 'resource_exhausted' },
    });
    expect(mapGeminiError(502, null, '<html>Bad Gateway</html>')).toEqual({
      error: { message: '<html>Bad Gateway</html>', type: 'api_error', param: null, code: null },
    });
    expect(mapGeminiError(500, null, '').error.message).toBe('upstream answered HTTP 500');
  });

  it('reads RetryInfo.retryDelay in whole seconds', () => {
    const raw = {
      error: { details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '6.2s' }] },
    };
    expect(retryAfterSeconds(raw)).toBe(7);
    expect(retryAfterSeconds({ error: {} })).toBeUndefined();
  });
});

describe('embeddings, models and ids', () => {
  it('builds an OpenAI embedding list, as floats or base64 float32', () => {
    const floats = toEmbeddingResponse([[0.5, -1]], 'gemini-embedding-001', 'float', 3);
    expect(floats).toEqual({
      object: 'list',
      model: 'gemini-embedding-001',
      data: [{ object: 'embedding', index: 0, embedding: [0.5, -1] }],
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
    const b64 = toEmbeddingResponse([[0.5, -1]], 'm', 'base64', 1).data[0]!.embedding as unknown as string;
    const buf = Buffer.from(b64, 'base64');
    expect([buf.readFloatLE(0), buf.readFloatLE(4)]).toEqual([0.5, -1]);
  });

  it('strips the models/ prefix from model names', () => {
    expect(toModels([{ name: 'models/gemini-2.5-pro' }])).toEqual([
      { id: 'gemini-2.5-pro', object: 'model', created: 0, owned_by: 'google' },
    ]);
  });

  it('names tool calls call_<random>', () => {
    const a = randomIds.toolCallId();
    expect(a).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(randomIds.toolCallId()).not.toBe(a);
    expect(randomIds.completionId('abc')).toBe('chatcmpl-abc');
  });
});

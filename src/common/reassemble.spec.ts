import type { ChatCompletionChunk } from './openai.types';
import {
  chatChunksFromSse,
  estimateTokens,
  estimateUsage,
  reassembleChatStream,
  reassembleCompletionStream,
  traceUsageFrom,
} from './reassemble';

const base = {
  id: 'chatcmpl-9',
  object: 'chat.completion.chunk',
  created: 1700000000,
  model: 'gpt-x',
} as const;

type Delta = ChatCompletionChunk['choices'][number]['delta'];

function chunk(
  delta: Delta,
  finish: string | null = null,
  index = 0,
  extra: object = {},
): ChatCompletionChunk {
  return {
    ...base,
    ...extra,
    choices: [{ index, delta, logprobs: null, finish_reason: finish }],
  } as ChatCompletionChunk;
}

function sse(chunks: readonly object[]): string {
  return chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
}

describe('reassembleChatStream', () => {
  it('joins content and takes role, ids and finish reason', () => {
    const done = reassembleChatStream([
      chunk({ role: 'assistant', content: '' }, null, 0, {
        system_fingerprint: 'fp_1',
        service_tier: 'default',
      }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      chunk({}, 'stop'),
    ]);
    expect(done).toEqual({
      id: 'chatcmpl-9',
      object: 'chat.completion',
      created: 1700000000,
      model: 'gpt-x',
      system_fingerprint: 'fp_1',
      service_tier: 'default',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello', refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
    });
  });

  it('merges tool calls by index: id and name from the first delta, arguments joined in order', () => {
    const done = reassembleChatStream([
      chunk({
        role: 'assistant',
        content: null,
        tool_calls: [
          { index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
      chunk({
        tool_calls: [
          { index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
        ],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{"tz":' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '"CET"}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    const message = done.choices[0]?.message;
    expect(message?.content).toBeNull();
    expect(message?.tool_calls).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
      { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } },
    ]);
    for (const call of message?.tool_calls ?? []) {
      if (call.type === 'function')
        expect(() => JSON.parse(call.function.arguments) as unknown).not.toThrow();
    }
    expect(done.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('orders tool calls by index even when a later index arrives first', () => {
    const done = reassembleChatStream([
      chunk({ tool_calls: [{ index: 1, id: 'call_2', function: { name: 'b', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'a', arguments: '{}' } }] }),
    ]);
    expect(done.choices[0]?.message.tool_calls?.map((c) => c.id)).toEqual(['call_1', 'call_2']);
  });

  it('keeps content that came before tool calls', () => {
    const done = reassembleChatStream([
      chunk({ content: 'Checking.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'a', arguments: '{}' } }] }),
    ]);
    expect(done.choices[0]?.message.content).toBe('Checking.');
    expect(done.choices[0]?.message.tool_calls).toHaveLength(1);
  });

  it('keeps several choices apart by index, each with its own finish reason', () => {
    const done = reassembleChatStream([
      chunk({ role: 'assistant', content: '' }, null, 0),
      chunk({ role: 'assistant', content: '' }, null, 1),
      chunk({ content: 'b1' }, null, 1),
      chunk({ content: 'a1' }, null, 0),
      chunk({ content: 'b2' }, 'stop', 1),
      chunk({ content: 'a2' }, 'length', 0),
    ]);
    expect(done.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, 'a1a2', 'length'],
      [1, 'b1b2', 'stop'],
    ]);
  });

  it('takes the last non-null finish reason', () => {
    const done = reassembleChatStream([chunk({ content: 'x' }, 'stop'), chunk({}, null)]);
    expect(done.choices[0]?.finish_reason).toBe('stop');
  });

  it('joins reasoning_content and refusal, and concatenates thinking blocks', () => {
    const done = reassembleChatStream([
      chunk({ reasoning_content: 'Let me ' }),
      chunk({
        reasoning_content: 'think.',
        thinking_blocks: [{ type: 'thinking', thinking: 'a', signature: 's1' }],
      }),
      chunk({ thinking_blocks: [{ type: 'redacted_thinking', data: 'xyz' }] }),
      chunk({ refusal: "I can't " }),
      chunk({ refusal: 'help.' }, 'stop'),
    ]);
    const m = done.choices[0]?.message;
    expect(m?.reasoning_content).toBe('Let me think.');
    expect(m?.thinking_blocks).toEqual([
      { type: 'thinking', thinking: 'a', signature: 's1' },
      { type: 'redacted_thinking', data: 'xyz' },
    ]);
    expect(m?.refusal).toBe("I can't help.");
  });

  it('takes usage from the chunk that carries it, not from usage:null chunks', () => {
    const usage = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 };
    const done = reassembleChatStream([
      { ...chunk({ content: 'hi' }, 'stop'), usage: null },
      { ...base, choices: [], usage },
    ]);
    expect(done.usage).toEqual(usage);
    expect(reassembleChatStream([chunk({ content: 'hi' })]).usage).toBeUndefined();
  });

  it('joins token logprobs', () => {
    const lp = (token: string) => ({ token, logprob: -0.1, bytes: null, top_logprobs: [] });
    const done = reassembleChatStream([
      {
        ...base,
        choices: [
          {
            index: 0,
            delta: { content: 'a' },
            logprobs: { content: [lp('a')], refusal: null },
            finish_reason: null,
          },
        ],
      },
      {
        ...base,
        choices: [
          {
            index: 0,
            delta: { content: 'b' },
            logprobs: { content: [lp('b')], refusal: null },
            finish_reason: 'stop',
          },
        ],
      },
    ] as ChatCompletionChunk[]);
    expect(done.choices[0]?.logprobs?.content?.map((t) => t.token)).toEqual(['a', 'b']);
  });

  it('survives chunks without choices and empty input', () => {
    expect(
      reassembleChatStream([{ error: { message: 'x' } } as unknown as ChatCompletionChunk]).choices,
    ).toEqual([]);
    expect(reassembleChatStream([])).toMatchObject({ id: '', object: 'chat.completion', choices: [] });
  });
});

describe('chatChunksFromSse', () => {
  const chunks = [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'héllo 世界 🙂' }),
    chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{"a":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
    chunk({}, 'tool_calls'),
  ];

  it('parses every event of a stream cut into reads anywhere', () => {
    const buf = Buffer.from(sse(chunks));
    for (const cut of [1, 50, buf.indexOf(Buffer.from('🙂')) + 2, buf.length - 3]) {
      expect(chatChunksFromSse([buf.subarray(0, cut), buf.subarray(cut)])).toEqual(chunks);
    }
  });

  it('accepts CRLF and CR line ends and multi-line data', () => {
    const crlf = Buffer.from(sse(chunks).replace(/\n/g, '\r\n'));
    expect(chatChunksFromSse([crlf])).toEqual(chunks);
    const cr = Buffer.from(sse(chunks).replace(/\n/g, '\r'));
    expect(chatChunksFromSse([cr])).toEqual(chunks);
    expect(chatChunksFromSse([Buffer.from('data: {"a":\ndata: 1}\n\n')])).toEqual([{ a: 1 }]);
    // LF ends but for one CRLF event: still every event
    const mixed = sse(chunks).replace('\n\n', '\r\n\r\n');
    expect(mixed.includes('\r')).toBe(true);
    expect(chatChunksFromSse([Buffer.from(mixed)])).toEqual(chunks);
  });

  it('skips non-JSON data, comments and [DONE]', () => {
    const text = `: keep-alive\n\ndata: not json\n\n${sse(chunks.slice(0, 2))}`;
    expect(chatChunksFromSse([Buffer.from(text)])).toEqual(chunks.slice(0, 2));
  });

  it('keeps what arrived before a truncated last event and reassembles it', () => {
    const buf = Buffer.from(sse(chunks));
    const cutAt = buf.indexOf(Buffer.from('"finish_reason":"tool_calls"'));
    const parsed = chatChunksFromSse([buf.subarray(0, cutAt)]);
    expect(parsed).toEqual(chunks.slice(0, 4));
    const done = reassembleChatStream(parsed);
    expect(done.choices[0]?.message.content).toBe('héllo 世界 🙂');
    expect(done.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { arguments: '{"a":1}' } });
    expect(done.choices[0]?.finish_reason).toBeNull();
  });

  it('keeps a last event that is whole but lacks its blank line', () => {
    const text = sse(chunks.slice(0, 2)).replace('data: [DONE]\n\n', '').trimEnd();
    expect(chatChunksFromSse([Buffer.from(text)])).toEqual(chunks.slice(0, 2));
  });
});

describe('reassembleCompletionStream', () => {
  it('joins text per choice, with finish reason and usage', () => {
    const c = { id: 'cmpl-1', object: 'text_completion', created: 5, model: 'gpt-3.5-turbo-instruct' };
    const done = reassembleCompletionStream([
      { ...c, choices: [{ index: 0, text: 'Once', finish_reason: null }] },
      { ...c, choices: [{ index: 1, text: 'Twice', finish_reason: 'length' }] },
      { ...c, choices: [{ index: 0, text: ' upon', finish_reason: 'stop' }] },
      { ...c, choices: [], usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } },
    ]);
    expect(done).toEqual({
      id: 'cmpl-1',
      object: 'text_completion',
      created: 5,
      model: 'gpt-3.5-turbo-instruct',
      choices: [
        { index: 0, text: 'Once upon', finish_reason: 'stop', logprobs: null },
        { index: 1, text: 'Twice', finish_reason: 'length', logprobs: null },
      ],
      usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
    });
  });
});

describe('usage', () => {
  it('reads cached and reasoning tokens from the provider details', () => {
    expect(
      traceUsageFrom({
        prompt_tokens: 100,
        completion_tokens: 40,
        total_tokens: 140,
        prompt_tokens_details: { cached_tokens: 64 },
        completion_tokens_details: { reasoning_tokens: 30 },
      }),
    ).toEqual({
      prompt_tokens: 100,
      completion_tokens: 40,
      total_tokens: 140,
      cached_tokens: 64,
      reasoning_tokens: 30,
      source: 'provider',
    });
  });

  it('fills missing details with zeros and a missing total with the sum; none gives null', () => {
    expect(
      traceUsageFrom({
        prompt_tokens: 3,
        completion_tokens: 4,
        total_tokens: 0,
        prompt_tokens_details: null,
      }),
    ).toMatchObject({ total_tokens: 7, cached_tokens: 0, reasoning_tokens: 0 });
    expect(traceUsageFrom(null)).toBeNull();
    expect(traceUsageFrom(undefined)).toBeNull();
  });

  it('estimates about four characters a token, at least one for non-empty text', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('a')).toBe(1);
    expect(estimateTokens('abcdefgh')).toBe(2);
    expect(estimateTokens('abcdefghi')).toBe(3);
    expect(estimateTokens('🙂🙂🙂🙂')).toBe(1);
  });

  it('estimates usage from the request text and the output, marked as estimated', () => {
    const request = {
      model: 'm',
      messages: [
        { role: 'system', content: 'abcd' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'efgh' },
            { type: 'image_url', image_url: { url: 'x' } },
          ],
        },
      ],
    };
    const u = estimateUsage(request, 'abcdefgh');
    expect(u).toEqual({
      prompt_tokens: estimateTokens('abcd\nefgh'),
      completion_tokens: 2,
      total_tokens: estimateTokens('abcd\nefgh') + 2,
      cached_tokens: 0,
      reasoning_tokens: 0,
      source: 'estimated',
    });
    expect(estimateUsage({ prompt: 'abcdefgh' }, '').prompt_tokens).toBe(2);
    expect(estimateUsage({ input: ['abcd', 'efgh'] }, '').prompt_tokens).toBe(3);
  });

  it('counts tool definitions and earlier tool calls in the estimated prompt', () => {
    const plain = estimateUsage({ messages: [{ role: 'user', content: 'hi' }] }, '').prompt_tokens;
    const withTools = estimateUsage(
      {
        messages: [
          { role: 'user', content: 'hi' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{}' } }],
          },
        ],
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      },
      '',
    ).prompt_tokens;
    expect(withTools).toBeGreaterThan(plain);
  });
});

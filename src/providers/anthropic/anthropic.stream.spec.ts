import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UpstreamError } from '../../common/errors';
import type { ChatCompletionChunk } from '../../common/openai.types';
import { reassembleChatStream } from '../../common/reassemble';
import { anthropicStreamChunks, AnthropicStreamConverter } from './anthropic.stream';

function fixture(name: string): Buffer {
  return readFileSync(join(__dirname, '__fixtures__', name));
}

async function* pieces(...parts: Buffer[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of anthropicStreamChunks(body, { model: 'requested', created: 1700000000 })) out.push(c);
  return out;
}

/** The deltas and finish reasons of a chunk list, without the envelope. */
function shape(chunks: ChatCompletionChunk[]): unknown[] {
  return chunks.map((c) =>
    c.choices.length === 0 ? { usage: c.usage } : { ...c.choices[0], logprobs: undefined },
  );
}

const open = { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null };
const delta = (d: object): object => ({ index: 0, delta: d, finish_reason: null });

const EXPECTED: Record<string, unknown[]> = {
  'text.sse': [
    open,
    delta({ content: 'Grüße aus ' }),
    delta({ content: 'Zürich 🇨🇭, ' }),
    delta({ content: '日本語も大丈夫です。' }),
    { index: 0, delta: {}, finish_reason: 'stop' },
    {
      usage: {
        prompt_tokens: 25,
        completion_tokens: 15,
        total_tokens: 40,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    },
  ],
  'tool-use.sse': [
    open,
    delta({ content: 'I will check both cities.' }),
    delta({
      tool_calls: [
        {
          index: 0,
          id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
          type: 'function',
          function: { name: 'get_weather', arguments: '' },
        },
      ],
    }),
    delta({ tool_calls: [{ index: 0, function: { arguments: '{"city": "S' } }] }),
    delta({ tool_calls: [{ index: 0, function: { arguments: 'ão Paulo", "un' } }] }),
    delta({ tool_calls: [{ index: 0, function: { arguments: 'it": "celsius"}' } }] }),
    delta({
      tool_calls: [
        {
          index: 1,
          id: 'toolu_01UkqYwKxBzUyFQVGLGtKvZa',
          type: 'function',
          function: { name: 'get_weather', arguments: '' },
        },
      ],
    }),
    delta({ tool_calls: [{ index: 1, function: { arguments: '{"city":' } }] }),
    delta({ tool_calls: [{ index: 1, function: { arguments: ' "Köln"}' } }] }),
    { index: 0, delta: {}, finish_reason: 'tool_calls' },
    {
      usage: {
        prompt_tokens: 472,
        completion_tokens: 89,
        total_tokens: 561,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    },
  ],
  'thinking.sse': [
    open,
    delta({ reasoning_content: '27 × 453: 27 × 400 = 10800, ' }),
    delta({ reasoning_content: '27 × 53 = 1431, total 12231.' }),
    delta({
      thinking_blocks: [
        {
          type: 'thinking',
          thinking: '27 × 453: 27 × 400 = 10800, 27 × 53 = 1431, total 12231.',
          signature:
            'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds2dHbRq3Yy4KlA1hEDAYH6l0ymp4oEUnIDDIp9PDpA==',
        },
      ],
    }),
    delta({
      thinking_blocks: [
        {
          type: 'redacted_thinking',
          data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP',
        },
      ],
    }),
    delta({ content: '27 × 453 = ' }),
    delta({ content: '12231' }),
    { index: 0, delta: {}, finish_reason: 'stop' },
    {
      usage: {
        prompt_tokens: 2060,
        completion_tokens: 120,
        total_tokens: 2180,
        prompt_tokens_details: { cached_tokens: 2048 },
      },
    },
  ],
};

describe('Anthropic stream conversion (fixture transcripts)', () => {
  it.each(Object.keys(EXPECTED))('turns %s into the expected OpenAI chunks', async (name) => {
    const chunks = await collect(pieces(fixture(name)));
    expect(shape(chunks)).toEqual(EXPECTED[name]);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.created === 1700000000)).toBe(true);
    expect(chunks.every((c) => c.id.startsWith('msg_') && c.model === 'claude-sonnet-4-5-20250929')).toBe(
      true,
    );
    expect(chunks[chunks.length - 1]!.choices).toEqual([]);
  });

  it.each(Object.keys(EXPECTED).flatMap((name) => [[name, '\n'] as const, [name, '\r\n'] as const]))(
    'gives the same chunks for %s split at every byte position (eol %j)',
    async (name, eol) => {
      const buf = Buffer.from(fixture(name).toString('utf8').replace(/\n/g, eol), 'utf8');
      const whole = await collect(pieces(buf));
      expect(shape(whole)).toEqual(EXPECTED[name]);
      for (let cut = 0; cut <= buf.length; cut++) {
        const split = await collect(pieces(buf.subarray(0, cut), buf.subarray(cut)));
        expect(split).toEqual(whole);
      }
    },
  );

  it('reassembles the tool-use stream into whole, parseable arguments', async () => {
    const done = reassembleChatStream(await collect(pieces(fixture('tool-use.sse'))));
    const calls = done.choices[0]!.message.tool_calls!;
    expect(
      calls.map((c) => JSON.parse((c as { function: { arguments: string } }).function.arguments)),
    ).toEqual([{ city: 'São Paulo', unit: 'celsius' }, { city: 'Köln' }]);
    expect(done.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('reassembles the thinking stream into reasoning_content and signed thinking_blocks', async () => {
    const done = reassembleChatStream(await collect(pieces(fixture('thinking.sse'))));
    const message = done.choices[0]!.message;
    expect(message.content).toBe('27 × 453 = 12231');
    expect(message.reasoning_content).toBe('27 × 453: 27 × 400 = 10800, 27 × 53 = 1431, total 12231.');
    expect(message.thinking_blocks?.map((b) => b.type)).toEqual(['thinking', 'redacted_thinking']);
    expect(message.thinking_blocks?.[0]?.signature).toMatch(/^EqQB/);
  });
});

describe('AnthropicStreamConverter', () => {
  const start = {
    type: 'message_start' as const,
    message: {
      id: 'msg_1',
      type: 'message' as const,
      role: 'assistant' as const,
      model: 'claude-x',
      content: [],
      stop_reason: null,
      usage: { input_tokens: 3, output_tokens: 1 },
    },
  };

  it('throws an error event as an UpstreamError with the status of its type', () => {
    const c = new AnthropicStreamConverter({ model: 'm', created: 1 });
    c.push(start);
    let caught: unknown;
    try {
      c.push({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UpstreamError);
    expect(caught).toMatchObject({
      status: 529,
      retryable: true,
      body: { error: { message: 'Overloaded', type: 'overloaded_error', code: 'overloaded_error' } },
    });
    expect(() =>
      c.push({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }),
    ).toThrow(expect.objectContaining({ status: 429 }) as Error);
    expect(() => c.push({ type: 'error', error: { type: 'api_error', message: 'boom' } })).toThrow(
      expect.objectContaining({ status: 500 }) as Error,
    );
  });

  it('fails a stream that ends before message_stop', async () => {
    const cut = fixture('text.sse').toString('utf8').split('event: message_delta')[0]!;
    await expect(collect(pieces(Buffer.from(cut)))).rejects.toMatchObject({ kind: 'protocol' });
  });

  it('skips ping, unknown events and unknown deltas', () => {
    const c = new AnthropicStreamConverter({ model: 'm', created: 1 });
    expect(c.push(start)).toHaveLength(1);
    expect(c.push({ type: 'ping' })).toEqual([]);
    expect(c.push({ type: 'future_event' } as never)).toEqual([]);
    c.push({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(
      c.push({ type: 'content_block_delta', index: 0, delta: { type: 'citations_delta', citation: {} } }),
    ).toEqual([]);
  });

  it('sends a tool input that came whole in content_block_start, and merges later usage', () => {
    const c = new AnthropicStreamConverter({ model: 'm', created: 1 });
    c.push(start);
    c.push({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } },
    });
    const stop = c.push({ type: 'content_block_stop', index: 0 });
    expect(stop[0]!.choices[0]!.delta).toEqual({
      tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }],
    });
    c.push({
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens' },
      usage: { output_tokens: 9, input_tokens: 4 },
    });
    c.push({ type: 'message_stop' });
    const end = c.end();
    expect(end).toHaveLength(1);
    expect(end[0]!.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 9, total_tokens: 13 });
  });

  it('closes with a finish chunk when message_delta never came', () => {
    const c = new AnthropicStreamConverter({ model: 'm', created: 1 });
    c.push(start);
    c.push({ type: 'message_stop' });
    const end = c.end();
    expect(end.map((x) => x.choices[0]?.finish_reason ?? 'usage')).toEqual(['stop', 'usage']);
  });
});

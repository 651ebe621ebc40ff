import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UpstreamError } from '../../common/errors';
import type { ChatCompletionChunk } from '../../common/openai.types';
import type { IdSource } from './gemini.response';
import { GeminiStreamConverter, geminiStreamChunks } from './gemini.stream';

function counterIds(): IdSource {
  let n = 0;
  return { toolCallId: () => `call_${++n}`, completionId: (rid) => `chatcmpl-${rid ?? 'x'}` };
}

function fixture(name: string): Buffer {
  return readFileSync(join(__dirname, '__fixtures__', name));
}

async function* pieces(...parts: Buffer[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of geminiStreamChunks(body, {
    model: 'requested',
    created: 1700000000,
    ids: counterIds(),
  }))
    out.push(c);
  return out;
}

/** The deltas and finish reasons of a chunk list, without the envelope. */
function shape(chunks: ChatCompletionChunk[]): unknown[] {
  return chunks.map((c) =>
    c.choices.length === 0 ? { usage: c.usage } : { ...c.choices[0], logprobs: undefined },
  );
}

describe('Gemini stream conversion (fixture transcripts)', () => {
  it('turns text.sse into a role chunk, content deltas, a stop finish and a usage chunk', async () => {
    const chunks = await collect(pieces(fixture('text.sse')));
    expect(
      chunks.every(
        (c) => c.id === 'chatcmpl-kqA8aOeXBI2Nz7IPk6zwsQc' && c.object === 'chat.completion.chunk',
      ),
    ).toBe(true);
    expect(chunks[0]!.model).toBe('gemini-2.0-flash');
    expect(shape(chunks)).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
      { index: 0, delta: { content: 'Grüße aus ' }, finish_reason: null },
      { index: 0, delta: { content: 'Zürich 🇨🇭, ' }, finish_reason: null },
      { index: 0, delta: { content: '日本語も大丈夫です。' }, finish_reason: null },
      { index: 0, delta: {}, finish_reason: 'stop' },
      {
        usage: {
          prompt_tokens: 9,
          completion_tokens: 17,
          total_tokens: 26,
          prompt_tokens_details: { cached_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0 },
        },
      },
    ]);
  });

  it('turns each whole functionCall part into one tool-call delta and STOP into tool_calls', async () => {
    const chunks = await collect(pieces(fixture('function-call.sse')));
    expect(shape(chunks)).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
      {
        index: 0,
        delta: {
          tool_calls: [
            {
              index: 0,
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
            },
          ],
        },
        finish_reason: null,
      },
      {
        index: 0,
        delta: {
          tool_calls: [
            {
              index: 1,
              id: 'call_2',
              type: 'function',
              function: { name: 'get_time', arguments: '{"timezone":"Europe/Paris"}' },
            },
          ],
        },
        finish_reason: null,
      },
      { index: 0, delta: {}, finish_reason: 'tool_calls' },
      expect.objectContaining({
        usage: expect.objectContaining({ prompt_tokens: 61, completion_tokens: 24, total_tokens: 85 }),
      }),
    ]);
  });

  it('turns thought parts into reasoning_content and the signature into a thinking block', async () => {
    const chunks = await collect(pieces(fixture('thinking.sse')));
    expect(shape(chunks)).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
      {
        index: 0,
        delta: { reasoning_content: '**Weighing the question**\n\nThe user asks for a prime; ' },
        finish_reason: null,
      },
      { index: 0, delta: { reasoning_content: 'seven is the smallest above five.' }, finish_reason: null },
      { index: 0, delta: { content: 'The answer is 7.' }, finish_reason: null },
      {
        index: 0,
        delta: {
          thinking_blocks: [
            {
              type: 'thinking',
              thinking:
                '**Weighing the question**\n\nThe user asks for a prime; seven is the smallest above five.',
              signature: 'CiQB0e2Kb7mQ2x1n8rWcS0a9yXk3Zp4vLq8RtUe6HjNcWbAgYhIKTwHR7YpsN3c5dD0=',
            },
          ],
        },
        finish_reason: null,
      },
      { index: 0, delta: {}, finish_reason: 'stop' },
      {
        usage: {
          prompt_tokens: 12,
          completion_tokens: 146,
          total_tokens: 158,
          prompt_tokens_details: { cached_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 140 },
        },
      },
    ]);
  });

  it('keeps the signature of a functionCall part and counts cached and reasoning tokens', async () => {
    const chunks = await collect(pieces(fixture('thinking-function-call.sse')));
    const deltas = chunks.flatMap((c) => c.choices.map((ch) => ch.delta));
    expect(deltas).toContainEqual({ reasoning_content: 'I should look up the order before answering.' });
    expect(deltas).toContainEqual({
      tool_calls: [
        {
          index: 0,
          id: 'call_1',
          type: 'function',
          function: { name: 'lookup_order', arguments: '{"order_id":"A-1001"}' },
        },
      ],
    });
    expect(deltas).toContainEqual({
      thinking_blocks: [
        {
          type: 'thinking',
          thinking: 'I should look up the order before answering.',
          signature: 'EpYCCpMCAdHtim8XlYQkK3sT5v0uJm1PqR7cZ2wY9eB4nD6fH8jL0aS3gV5xC1iO2kE7tU9rW4yN6mB8vQ0zP=',
        },
      ],
    });
    expect(chunks[chunks.length - 2]!.choices[0]!.finish_reason).toBe('tool_calls');
    expect(chunks[chunks.length - 1]!.usage).toEqual({
      prompt_tokens: 40,
      completion_tokens: 81,
      total_tokens: 121,
      prompt_tokens_details: { cached_tokens: 32 },
      completion_tokens_details: { reasoning_tokens: 63 },
    });
  });

  it.each(['text.sse', 'function-call.sse', 'thinking.sse', 'thinking-function-call.sse'])(
    'gives the same chunks for %s split at every byte position',
    async (name) => {
      const bytes = fixture(name);
      const whole = await collect(pieces(bytes));
      for (let i = 1; i < bytes.length; i++) {
        const split = await collect(pieces(bytes.subarray(0, i), bytes.subarray(i)));
        if (JSON.stringify(split) !== JSON.stringify(whole)) {
          throw new Error(`${name} split at byte ${i} gave different chunks`);
        }
      }
      const byteByByte = await collect(pieces(...Array.from(bytes, (b) => Buffer.from([b]))));
      expect(byteByByte).toEqual(whole);
    },
  );

  it('throws an error event of the stream as an UpstreamError with an OpenAI body', async () => {
    const body = Buffer.from(
      'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"index":0}]}\r\n\r\n' +
        'data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\r\n\r\n',
    );
    const seen: ChatCompletionChunk[] = [];
    const err = await (async () => {
      for await (const c of geminiStreamChunks(pieces(body), { model: 'm', created: 1, ids: counterIds() }))
        seen.push(c);
    })().catch((e: unknown) => e);
    expect(seen.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'Hi']);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).status).toBe(503);
    expect((err as UpstreamError).body?.error).toEqual({
      message: 'The model is overloaded.',
      type: 'api_error',
      param: null,
      code: 'unavailable',
    });
  });
});

describe('GeminiStreamConverter', () => {
  const ctx = { model: 'gemini-x', created: 1, ids: counterIds() };

  it('ends a blocked prompt with content_filter', () => {
    const conv = new GeminiStreamConverter(ctx);
    const chunks = [...conv.push({ promptFeedback: { blockReason: 'SAFETY' } }), ...conv.end()];
    expect(chunks.map((c) => c.choices[0]?.finish_reason ?? null)).toEqual([null, 'content_filter']);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
  });

  it('maps SAFETY and MAX_TOKENS finishes and keeps candidates apart by index', () => {
    const conv = new GeminiStreamConverter(ctx);
    const chunks = conv.push({
      candidates: [
        { index: 0, content: { parts: [{ text: 'a' }] }, finishReason: 'MAX_TOKENS' },
        { index: 1, finishReason: 'SAFETY' },
      ],
    });
    const finishes = chunks
      .filter((c) => c.choices[0]?.finish_reason)
      .map((c) => [c.choices[0]!.index, c.choices[0]!.finish_reason]);
    expect(finishes).toEqual([
      [0, 'length'],
      [1, 'content_filter'],
    ]);
  });

  it('closes a stream that ended without a finishReason and emits no usage when none was sent', () => {
    const conv = new GeminiStreamConverter(ctx);
    const chunks = [...conv.push({ candidates: [{ content: { parts: [{ text: 'a' }] } }] }), ...conv.end()];
    expect(chunks[chunks.length - 1]!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.some((c) => c.choices.length === 0)).toBe(false);
  });
});

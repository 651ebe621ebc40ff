import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UpstreamError } from '../../common/errors';
import type { ChatCompletionChunk } from '../../common/openai.types';
import { cozeStreamChunks } from './coze.stream';

const fixture = (name: string): Buffer => readFileSync(join(__dirname, '__fixtures__', name));
const ctx = { model: '7490858512726458380', created: 1744108945 };

async function* pieces(buf: Buffer, cuts: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const cut of cuts) {
    yield buf.subarray(at, cut);
    at = cut;
  }
  yield buf.subarray(at);
}

async function collect(body: AsyncIterable<Buffer | string>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of cozeStreamChunks(body, ctx)) out.push(c);
  return out;
}

/** Runs the conversion and returns what came out before the error, and the error. */
async function collectUntilError(
  body: AsyncIterable<Buffer | string>,
): Promise<[ChatCompletionChunk[], unknown]> {
  const out: ChatCompletionChunk[] = [];
  try {
    for await (const c of cozeStreamChunks(body, ctx)) out.push(c);
  } catch (err) {
    return [out, err];
  }
  return [out, undefined];
}

const envelope = { id: 'chatcmpl-7490890868547698724', object: 'chat.completion.chunk', ...ctx };
const choice = (delta: object, finish: string | null = null) => ({
  ...envelope,
  choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
});

const TEXT_CHUNKS = [
  choice({ role: 'assistant', content: '' }),
  choice({ content: 'Grüße' }),
  choice({ content: '! Hello' }),
  choice({ content: ' 🌍 世界' }),
  choice({ content: '.' }),
  choice({}, 'stop'),
  { ...envelope, choices: [], usage: { prompt_tokens: 403, completion_tokens: 9, total_tokens: 412 } },
];

const REASONING_CHUNKS = [
  choice({ role: 'assistant', content: '' }),
  choice({ reasoning_content: 'The user greets me;' }),
  choice({ reasoning_content: ' answer politely.' }),
  choice({ content: 'Hello' }),
  choice({ content: ', friend!' }),
  choice({}, 'stop'),
  { ...envelope, choices: [], usage: { prompt_tokens: 1229, completion_tokens: 31, total_tokens: 1260 } },
];

describe('cozeStreamChunks', () => {
  it.each([
    ['text.sse', TEXT_CHUNKS],
    ['reasoning.sse', REASONING_CHUNKS],
  ])('turns %s into the same OpenAI chunks at every split position', async (name, expected) => {
    const buf = fixture(name);
    expect(await collect(pieces(buf, []))).toEqual(expected);
    const want = JSON.stringify(expected);
    for (let cut = 0; cut <= buf.length; cut++) {
      const got = await collect(pieces(buf, [cut]));
      // A string comparison per cut keeps the loop fast; the deep diff only runs on a mismatch.
      if (JSON.stringify(got) !== want) expect({ cut, got }).toEqual({ cut, got: expected });
    }
  });

  it('reads the transcript one byte at a time and with CRLF line endings', async () => {
    const buf = fixture('text.sse');
    const everyByte = Array.from({ length: buf.length }, (_, i) => i);
    expect(await collect(pieces(buf, everyByte))).toEqual(TEXT_CHUNKS);
    const crlf = Buffer.from(buf.toString('utf8').replace(/\n/g, '\r\n'), 'utf8');
    expect(await collect(pieces(crlf, [crlf.length >> 1]))).toEqual(TEXT_CHUNKS);
  });

  it('throws a failed chat with its last_error before any chunk, at every split position', async () => {
    const buf = fixture('failed.sse');
    for (let cut = 0; cut <= buf.length; cut++) {
      const [chunks, err] = await collectUntilError(pieces(buf, [cut]));
      expect(chunks).toEqual([]);
      expect(err).toBeInstanceOf(UpstreamError);
      const e = err as UpstreamError;
      expect(e.status).toBe(500);
      expect(e.body?.error).toMatchObject({
        message: 'chat failed: The balance of your account is insufficient.',
        code: '4011',
      });
    }
  });

  it('throws an error event, after the output that came before it', async () => {
    const buf = fixture('text.sse');
    const firstDelta = buf.indexOf('event:conversation.message.delta');
    const secondDelta = buf.indexOf('event:conversation.message.delta', firstDelta + 1);
    const body = Buffer.concat([
      buf.subarray(0, secondDelta),
      Buffer.from('event:error\ndata:{"code":4013,"msg":"rate limited"}\n\n'),
    ]);
    const [chunks, err] = await collectUntilError(pieces(body, []));
    expect(chunks).toEqual(TEXT_CHUNKS.slice(0, 2));
    expect(err).toMatchObject({ status: 429, body: { error: { message: 'rate limited', code: '4013' } } });
  });

  it('treats a stream cut before conversation.chat.completed as a protocol error', async () => {
    const buf = fixture('text.sse');
    const cut = buf.indexOf('event:conversation.chat.completed');
    const [chunks, err] = await collectUntilError(pieces(buf.subarray(0, cut), []));
    expect(chunks).toEqual(TEXT_CHUNKS.slice(0, 5));
    expect(err).toMatchObject({ kind: 'protocol', status: 200 });
  });

  it('ignores everything after done', async () => {
    const body = Buffer.concat([
      fixture('text.sse'),
      Buffer.from('event:conversation.message.delta\ndata:not json\n\n'),
    ]);
    expect(await collect(pieces(body, []))).toEqual(TEXT_CHUNKS);
  });

  it('ignores non-answer deltas and separates two answer messages by a blank line', async () => {
    const ev = (name: string, data: object) => `event:${name}\ndata:${JSON.stringify(data)}\n\n`;
    const msg = (id: string, type: string, content: string) => ({ id, role: 'assistant', type, content });
    const text =
      ev('conversation.chat.created', { id: 'c1', conversation_id: 'v1', status: 'created' }) +
      ev('conversation.message.delta', msg('m1', 'answer', 'one')) +
      ev('conversation.message.delta', msg('m2', 'follow_up', 'ignored')) +
      ev('conversation.message.delta', msg('m3', 'answer', 'two')) +
      ev('conversation.chat.completed', { id: 'c1', conversation_id: 'v1', status: 'completed' }) +
      'event:done\ndata:"[DONE]"\n\n';
    const chunks = await collect(pieces(Buffer.from(text), []));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? null)).toEqual(['', 'one', '\n\ntwo', null]);
    expect(chunks.every((c) => c.id === 'chatcmpl-c1')).toBe(true);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UpstreamError } from '../errors';
import type { ChatCompletionChunk } from '../openai.types';
import { reassembleChatStream } from '../reassemble';
import { parseJsonEvents } from './json-events';
import { parseSSE, type SseEvent } from './parse';

function fixture(name: string, eol: '\n' | '\r\n' = '\n'): Buffer {
  const text = readFileSync(join(__dirname, '__fixtures__', name), 'utf8');
  return Buffer.from(eol === '\n' ? text : text.replace(/\n/g, eol), 'utf8');
}

async function* inPieces(buf: Buffer, cuts: readonly number[]): AsyncGenerator<Buffer> {
  let from = 0;
  for (const cut of cuts) {
    yield buf.subarray(from, cut);
    from = cut;
  }
  yield buf.subarray(from);
}

async function chunksOf(
  body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const e of parseJsonEvents<unknown>(body)) out.push(e.data);
  return out;
}

async function eventsOf(
  body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of parseSSE(body)) out.push(e);
  return out;
}

/** The JSON payloads of a transcript, read independently of the parser (LF framing). */
function payloads(name: string): unknown[] {
  return readFileSync(join(__dirname, '__fixtures__', name), 'utf8')
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => JSON.parse(e.slice('data: '.length)) as unknown);
}

describe('parseJsonEvents on recorded OpenAI transcripts', () => {
  const cases = [
    ['openai-chat-tools.sse.txt', '\n'],
    ['openai-chat-tools.sse.txt', '\r\n'],
    ['openai-chat-text.sse.txt', '\n'],
    ['openai-chat-text.sse.txt', '\r\n'],
  ] as const;

  it.each(cases)(
    '%s (eol %j) gives the same events and completion split at every byte',
    async (name, eol) => {
      const buf = fixture(name, eol);
      const expected = payloads(name);
      const completion = reassembleChatStream(expected as ChatCompletionChunk[]);
      expect(await chunksOf([buf])).toEqual(expected);
      // Compared as JSON text: a deep toEqual per cut would make this test slow.
      const wantEvents = JSON.stringify(expected);
      const wantCompletion = JSON.stringify(completion);
      const badCuts: number[] = [];
      for (let cut = 0; cut <= buf.length; cut++) {
        const events = await chunksOf(inPieces(buf, [cut]));
        const done = reassembleChatStream(events as ChatCompletionChunk[]);
        if (JSON.stringify(events) !== wantEvents || JSON.stringify(done) !== wantCompletion)
          badCuts.push(cut);
      }
      expect(badCuts).toEqual([]);
    },
  );

  it.each(cases)('%s (eol %j) gives the same events fed one byte at a time', async (name, eol) => {
    const buf = fixture(name, eol);
    const cuts = Array.from({ length: buf.length - 1 }, (_, i) => i + 1);
    expect(await chunksOf(inPieces(buf, cuts))).toEqual(payloads(name));
  });

  it('decodes every multi-byte character whole, whichever byte a read ends on', async () => {
    const buf = fixture('openai-chat-text.sse.txt');
    const emoji = buf.indexOf(Buffer.from('🙂'));
    for (const cut of [emoji + 1, emoji + 2, emoji + 3, buf.indexOf(Buffer.from('世')) + 1]) {
      const done = reassembleChatStream((await chunksOf(inPieces(buf, [cut]))) as ChatCompletionChunk[]);
      expect(done.choices[0]?.message.content).toBe('héllo 世界 🙂!');
    }
  });

  it('reassembles the tool-call transcript into two calls with whole arguments', async () => {
    const done = reassembleChatStream(
      (await chunksOf([fixture('openai-chat-tools.sse.txt', '\r\n')])) as ChatCompletionChunk[],
    );
    const calls = done.choices[0]?.message.tool_calls?.map((c) =>
      c.type === 'function' ? c.function : null,
    );
    expect(calls).toEqual([
      { name: 'get_weather', arguments: '{"city":"Zürich","note":"héllo 世界 🙂"}' },
      { name: 'get_weather', arguments: '{"city":"東京"}' },
    ]);
    expect(done.choices[0]?.finish_reason).toBe('tool_calls');
    expect(done.usage?.prompt_tokens_details?.cached_tokens).toBe(1024);
  });

  it('accepts string pieces as well as bytes', async () => {
    const text = fixture('openai-chat-text.sse.txt').toString('utf8');
    const pieces = text.match(/[\s\S]{1,5}/gu) ?? [];
    expect(await chunksOf(pieces)).toEqual(payloads('openai-chat-text.sse.txt'));
  });

  it('stops at data: [DONE] and reads nothing after it', async () => {
    const body = [Buffer.from('data: {"a":1}\n\ndata: [DONE]\n\ndata: {"a":2}\n\ndata: not json\n\n')];
    expect(await chunksOf(body)).toEqual([{ a: 1 }]);
  });

  it('skips comments, keep-alives and events without data', async () => {
    const body = [Buffer.from(': OPENROUTER PROCESSING\n\nevent: ping\n\ndata: {"a":1}\n\n: keep-alive\n\n')];
    expect(await chunksOf(body)).toEqual([{ a: 1 }]);
  });

  it('passes the event name along with the data', async () => {
    const seen: Array<{ event: string | undefined; data: unknown }> = [];
    for await (const e of parseJsonEvents([
      Buffer.from('event: message_start\ndata: {"x":1}\n\ndata: {"y":2}\n\n'),
    ]))
      seen.push(e);
    expect(seen).toEqual([
      { event: 'message_start', data: { x: 1 } },
      { event: undefined, data: { y: 2 } },
    ]);
  });

  it('throws a protocol UpstreamError, with the status given, on data that is not JSON', async () => {
    const read = async (): Promise<void> => {
      for await (const e of parseJsonEvents([Buffer.from('data: {"a":1}\n\ndata: {nope\n\n')], 200)) void e;
    };
    const err = await read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ status: 200, kind: 'protocol', body: null });
    expect((err as UpstreamError).message).toContain('not JSON');
    const withoutStatus = await chunksOf([Buffer.from('data: <html>\n\n')]).catch((e: unknown) => e);
    expect(withoutStatus).toMatchObject({ status: null, kind: 'protocol' });
  });
});

describe('parseSSE', () => {
  it('joins multi-line data, keeps event and id, skips comments', async () => {
    expect(await eventsOf([Buffer.from(': hi\nevent: x\nid: 7\ndata: a\ndata: b\n\n')])).toEqual([
      { event: 'x', data: 'a\nb', id: '7' },
    ]);
  });

  it('accepts lone CR line ends', async () => {
    expect(await eventsOf([Buffer.from('data: a\r\rdata: b\r\r')])).toEqual([
      { event: undefined, data: 'a', id: undefined },
      { event: undefined, data: 'b', id: undefined },
    ]);
  });

  it('delivers a last event that lacks its blank line', async () => {
    expect(await eventsOf([Buffer.from('data: {"a":1}\n\ndata: {"b":2}')])).toEqual([
      { event: undefined, data: '{"a":1}', id: undefined },
      { event: undefined, data: '{"b":2}', id: undefined },
    ]);
  });
});

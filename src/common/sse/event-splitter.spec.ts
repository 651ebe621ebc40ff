import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chatChunksFromSse, reassembleChatStream } from '../reassemble';
import { isUsageOnlyEvent, SseEventSplitter, stripUsageForClient } from './event-splitter';

type Eol = '\n' | '\r\n' | '\r';

function fixture(name: string, eol: Eol = '\n'): Buffer {
  const text = readFileSync(join(__dirname, '__fixtures__', name), 'utf8');
  return Buffer.from(eol === '\n' ? text : text.replace(/\n/g, eol), 'utf8');
}

/** The raw events of an LF transcript, cut independently of the splitter. */
function rawEvents(buf: Buffer, eol: Eol): string[] {
  const sep = eol + eol;
  return buf
    .toString('utf8')
    .split(sep)
    .filter((e) => e !== '')
    .map((e) => e + sep);
}

/**
 * Events out of `push`, then what `flush` gives. With lone-CR line ends the last event stays
 * pending until the end (an LF could still follow its final CR), so it comes from `flush`.
 */
function split(buf: Buffer, cuts: readonly number[]): { events: Buffer[]; rest: Buffer | null } {
  const s = new SseEventSplitter();
  const events: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, buf.length]) {
    events.push(...s.push(buf.subarray(from, cut)));
    from = cut;
  }
  return { events, rest: s.flush() };
}

function allEvents(buf: Buffer, cuts: readonly number[], eol: Eol): Buffer[] | null {
  const { events, rest } = split(buf, cuts);
  if (eol === '\r') return rest ? [...events, rest] : null;
  return rest === null ? events : null;
}

const transcripts = ['openai-chat-tools.sse.txt', 'openai-chat-text.sse.txt'];
const eols: Eol[] = ['\n', '\r\n', '\r'];
const cases = transcripts.flatMap((name) => eols.map((eol) => [name, eol] as const));

describe('SseEventSplitter', () => {
  it.each(cases)('%s (eol %j): the same events at every split position, byte-identical', (name, eol) => {
    const buf = fixture(name, eol);
    const want = rawEvents(buf, eol);
    const bad: number[] = [];
    for (let cut = 0; cut <= buf.length; cut++) {
      const events = allEvents(buf, [cut], eol);
      const same =
        events !== null &&
        events.length === want.length &&
        events.every((e, i) => e.toString('utf8') === want[i]) &&
        Buffer.concat(events).equals(buf);
      if (!same) bad.push(cut);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it.each(cases)('%s (eol %j): the same events fed one byte at a time', (name, eol) => {
    const buf = fixture(name, eol);
    const events = allEvents(
      buf,
      Array.from({ length: buf.length - 1 }, (_, i) => i + 1),
      eol,
    );
    expect(events?.map(String)).toEqual(rawEvents(buf, eol));
  });

  it('gives events that parse into the same reassembled completion', () => {
    const buf = fixture('openai-chat-tools.sse.txt', '\r\n');
    const { events } = split(buf, [1000, 1001, 4000]);
    expect(reassembleChatStream(chatChunksFromSse(events))).toEqual(
      reassembleChatStream(chatChunksFromSse([buf])),
    );
  });

  it('returns views of the read, not copies, for events lying wholly inside it', () => {
    const buf = Buffer.from('data: 1\n\ndata: 2\n\n');
    const [a, b] = new SseEventSplitter().push(buf);
    expect(a?.buffer).toBe(buf.buffer);
    expect(b?.byteOffset).toBe(buf.byteOffset + 9);
  });

  it('holds an incomplete event until its blank line arrives, and flushes the rest at the end', () => {
    const s = new SseEventSplitter();
    expect(s.push(Buffer.from('data: {"a":1}\n'))).toEqual([]);
    expect(s.push(Buffer.from('\ndata: x')).map(String)).toEqual(['data: {"a":1}\n\n']);
    expect(String(s.flush())).toBe('data: x');
    expect(s.flush()).toBeNull();
  });

  it('decides a CR blank line only once the next byte shows whether an LF follows', () => {
    const s = new SseEventSplitter();
    expect(s.push(Buffer.from('data: a\r\n\r'))).toEqual([]);
    expect(s.push(Buffer.from('\ndata: b\r\r')).map(String)).toEqual(['data: a\r\n\r\n']);
    expect(s.push(Buffer.from('data: c')).map(String)).toEqual(['data: b\r\r']);
    expect(String(s.flush())).toBe('data: c');
  });

  it('does not take an LF completing a CRLF line end for a blank line', () => {
    const s = new SseEventSplitter();
    expect(s.push(Buffer.from('data: a\r'))).toEqual([]);
    expect(s.push(Buffer.from('\ndata: b\r\n'))).toEqual([]);
    expect(s.push(Buffer.from('\r\n')).map(String)).toEqual(['data: a\r\ndata: b\r\n\r\n']);
  });

  it('keeps a stream that ends on a CR blank line whole on flush', () => {
    const s = new SseEventSplitter();
    expect(s.push(Buffer.from('data: a\r\r'))).toEqual([]);
    expect(String(s.flush())).toBe('data: a\r\r');
  });
});

describe('stripUsageForClient', () => {
  const events = (): Buffer[] => new SseEventSplitter().push(fixture('openai-chat-tools.sse.txt'));

  it('drops the usage-only chunk', () => {
    const all = events();
    const usageOnly = all.filter(isUsageOnlyEvent);
    expect(usageOnly).toHaveLength(1);
    expect(stripUsageForClient(usageOnly[0] as Buffer)).toBeNull();
  });

  it('cuts "usage":null out of every other chunk and leaves the rest byte for byte', () => {
    const all = events();
    const pairs = all.filter((e) => !isUsageOnlyEvent(e)).map((e) => [e, stripUsageForClient(e)] as const);
    expect(pairs).toHaveLength(all.length - 1);
    for (const [before, after] of pairs) {
      const text = String(after);
      expect(text).not.toContain('"usage"');
      expect(text).toBe(before.toString('utf8').replace(',"usage":null', ''));
    }
    const kept = pairs.map(([, after]) => after as Buffer);
    const chunks = chatChunksFromSse(kept);
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    const done = reassembleChatStream(chunks);
    expect(done.usage).toBeUndefined();
    expect(done.choices[0]?.message.tool_calls).toHaveLength(2);
  });

  it('returns data: [DONE], comments and chunks without usage as the same Buffer', () => {
    const done = Buffer.from('data: [DONE]\n\n');
    const comment = Buffer.from(': keep-alive\n\n');
    const plain = fixture('openai-chat-text.sse.txt').subarray(0, 300);
    for (const e of [done, comment, plain]) expect(stripUsageForClient(e)).toBe(e);
  });

  it('removes the member whether it comes first, last or alone, with spaces around the colon', () => {
    const cases: Array<[string, string]> = [
      ['data: {"usage":null,"choices":[{"index":0}]}\n\n', 'data: {"choices":[{"index":0}]}\n\n'],
      ['data: {"choices":[{"index":0}], "usage": null}\n\n', 'data: {"choices":[{"index":0}]}\n\n'],
      ['data: {"usage" : null , "id":"x"}\r\n\r\n', 'data: {"id":"x"}\r\n\r\n'],
      ['data: {"usage":null}\n\n', 'data: {}\n\n'],
    ];
    for (const [input, output] of cases) expect(String(stripUsageForClient(Buffer.from(input)))).toBe(output);
  });

  it('recognises a usage-only chunk written with spaces', () => {
    const e = Buffer.from('data: {"id": "x", "choices": [ ], "usage": {"prompt_tokens": 1}}\n\n');
    expect(stripUsageForClient(e)).toBeNull();
  });

  it('leaves a chunk with choices and a usage object alone (not the chunk the gateway asked for)', () => {
    const e = Buffer.from(
      'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"total_tokens":3}}\n\n',
    );
    expect(stripUsageForClient(e)).toBe(e);
  });

  it('is not fooled by the word usage inside a string value', () => {
    const e = Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"\\"usage\\":null"}}]}\n\n');
    expect(stripUsageForClient(e)).toBe(e);
  });
});

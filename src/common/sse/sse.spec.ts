import type { ChatCompletionChunk } from '../openai.types';
import { chatChunksFromSse, reassembleChatStream } from '../reassemble';
import { isUsageOnlyEvent, SseEventSplitter } from './event-splitter';
import { parseJsonEvents } from './json-events';
import { parseSSE } from './parse';

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm' };
const chunks: object[] = [
  {
    ...base,
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    usage: null,
  },
  { ...base, choices: [{ index: 0, delta: { content: 'héllo 世界 🙂' }, finish_reason: null }], usage: null },
  {
    ...base,
    choices: [
      {
        index: 0,
        delta: {
          tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }],
        },
        finish_reason: null,
      },
    ],
    usage: null,
  },
  {
    ...base,
    choices: [
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] },
        finish_reason: null,
      },
    ],
    usage: null,
  },
  {
    ...base,
    choices: [
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { arguments: '"ü"}' } }] },
        finish_reason: null,
      },
    ],
    usage: null,
  },
  { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }], usage: null },
  { ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } },
];

function transcript(eol: string): Buffer {
  const text =
    chunks.map((c) => `data: ${JSON.stringify(c)}${eol}${eol}`).join('') +
    `: keep-alive${eol}${eol}data: [DONE]${eol}${eol}`;
  return Buffer.from(text, 'utf8');
}

async function* pieces(buf: Buffer, cut: number): AsyncGenerator<Buffer> {
  yield buf.subarray(0, cut);
  yield buf.subarray(cut);
}

describe('SSE decoding', () => {
  it.each([['\n'], ['\r\n']])(
    'gives the same events and completion at every split position (eol %j)',
    async (eol) => {
      const buf = transcript(eol);
      const expected = reassembleChatStream(chunks as ChatCompletionChunk[]);
      for (let cut = 0; cut <= buf.length; cut++) {
        const events: ChatCompletionChunk[] = [];
        for await (const e of parseJsonEvents<ChatCompletionChunk>(pieces(buf, cut))) events.push(e.data);
        expect(events).toHaveLength(chunks.length);
        expect(reassembleChatStream(events)).toEqual(expected);
      }
    },
  );

  it('joins multi-line data and skips comments', async () => {
    const events = [];
    for await (const e of parseSSE([Buffer.from(': hi\nevent: x\ndata: a\ndata: b\n\n')])) events.push(e);
    expect(events).toEqual([{ event: 'x', data: 'a\nb', id: undefined }]);
  });

  it('throws a protocol error on a data line that is not JSON', async () => {
    const run = async () => {
      for await (const _ of parseJsonEvents([Buffer.from('data: {nope\n\n')])) void _;
    };
    await expect(run()).rejects.toMatchObject({ kind: 'protocol' });
  });
});

describe('SseEventSplitter', () => {
  it.each([['\n'], ['\r\n']])(
    'cuts complete events at every split position, byte-identical (eol %j)',
    (eol) => {
      const buf = transcript(eol);
      for (let cut = 0; cut <= buf.length; cut++) {
        const s = new SseEventSplitter();
        const out = [...s.push(buf.subarray(0, cut)), ...s.push(buf.subarray(cut))];
        const rest = s.flush();
        if (rest) out.push(rest);
        expect(Buffer.concat(out).equals(buf)).toBe(true);
        expect(out).toHaveLength(chunks.length + 2);
      }
    },
  );

  it('holds an incomplete event until its blank line arrives', () => {
    const s = new SseEventSplitter();
    expect(s.push(Buffer.from('data: {"a":1}\n'))).toEqual([]);
    expect(s.push(Buffer.from('\ndata: x')).map(String)).toEqual(['data: {"a":1}\n\n']);
    expect(String(s.flush())).toBe('data: x');
  });

  it('recognises only the usage-only chunk', () => {
    const events = new SseEventSplitter().push(transcript('\n'));
    expect(events.filter(isUsageOnlyEvent)).toHaveLength(1);
    expect(String(events.find(isUsageOnlyEvent))).toContain('"total_tokens":7');
  });
});

describe('stream reassembly', () => {
  it('joins content, tool-call arguments, finish reason and usage', () => {
    const c = reassembleChatStream(chunks as ChatCompletionChunk[]);
    expect(c.choices[0]?.message.content).toBe('héllo 世界 🙂');
    expect(c.choices[0]?.message.tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":"ü"}' } },
    ]);
    expect(c.choices[0]?.finish_reason).toBe('tool_calls');
    expect(c.usage?.total_tokens).toBe(7);
  });

  it('keeps several choices apart and survives a truncated last event', () => {
    const buf = transcript('\n');
    const truncated = buf.subarray(0, buf.indexOf('"finish_reason":"tool_calls"'));
    const parsed = chatChunksFromSse([truncated]);
    expect(parsed).toHaveLength(5);
    const two = reassembleChatStream([
      { ...base, choices: [{ index: 1, delta: { content: 'b' }, finish_reason: 'stop' }] },
      { ...base, choices: [{ index: 0, delta: { content: 'a' }, finish_reason: 'length' }] },
    ] as ChatCompletionChunk[]);
    expect(two.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, 'a', 'length'],
      [1, 'b', 'stop'],
    ]);
  });
});

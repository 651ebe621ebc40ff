import { performance } from 'node:perf_hooks';
import { CallState } from './call-state';
import { CollectSink } from './client-sink';
import { Readable } from 'node:stream';
import { collect, rawSseDelivery } from './deliveries';

const chunkEvent = (text: string): string =>
  `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":null}],"usage":null}\n\n`;
const usageEvent =
  'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}}\n\n';
const done = 'data: [DONE]\n\n';

async function deliver(reads: Buffer[], wantUsage: boolean, seen?: { usageEvent?: string }): Promise<string> {
  const state = new CallState('/v1/chat/completions', performance.now());
  state.stream = true;
  state.wantUsage = wantUsage;
  async function* gen(): AsyncGenerator<Buffer> {
    for (const r of reads) yield r;
  }
  const it = gen();
  const sink = new CollectSink();
  await rawSseDelivery(state, await it.next(), it)(sink);
  expect(Buffer.concat(state.response.kind === 'sse' ? state.response.chunks : []).toString()).toBe(
    Buffer.concat(reads).toString(),
  );
  if (seen && state.usageEvent) seen.usageEvent = state.usageEvent.toString();
  return sink.text();
}

describe('rawSseDelivery', () => {
  for (const eol of ['\n', '\r\n']) {
    const fix = (s: string): string => s.replace(/\n/g, eol);
    const stream = fix(chunkEvent('Hello') + chunkEvent(' wörld') + usageEvent + done);
    const expected = fix(chunkEvent('Hello') + chunkEvent(' wörld') + done);

    it(`holds back only the usage chunk at every split into reads (${JSON.stringify(eol)})`, async () => {
      const all = Buffer.from(stream);
      for (let i = 1; i < all.length; i++) {
        expect(await deliver([all.subarray(0, i), all.subarray(i)], false)).toBe(expected);
      }
      for (let i = 1; i < all.length - 40; i += 7) {
        const reads = [all.subarray(0, i), all.subarray(i, i + 40), all.subarray(i + 40)];
        expect(await deliver(reads, false)).toBe(expected);
      }
    });

    it(`forwards every byte when the client asked for usage (${JSON.stringify(eol)})`, async () => {
      const all = Buffer.from(stream);
      expect(await deliver([all.subarray(0, 50), all.subarray(50)], true)).toBe(stream);
    });
  }

  it('keeps chunks that carry usage beside their choices (continuous usage), and remembers the usage event', async () => {
    const withUsage = (text: string): string =>
      `data: {"choices":[{"index":0,"delta":{"content":"${text}"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n`;
    const all = Buffer.from(': keep-alive\n\n' + withUsage('a') + withUsage('b') + usageEvent + done);
    for (let i = 1; i < all.length; i += 5) {
      const seen: { usageEvent?: string } = {};
      const out = await deliver([all.subarray(0, i), all.subarray(i)], false, seen);
      expect(out).toBe(': keep-alive\n\n' + withUsage('a') + withUsage('b') + done);
      expect(seen.usageEvent).toBe(usageEvent);
    }
  });

  it('passes reads that end with whole events and hold no usage straight through', async () => {
    const reads = [
      Buffer.from(chunkEvent('a')),
      Buffer.from(chunkEvent('b') + usageEvent),
      Buffer.from(done),
    ];
    expect(await deliver(reads, false)).toBe(chunkEvent('a') + chunkEvent('b') + done);
  });
});

describe('collect', () => {
  it('reads a whole body that is a stream (a plugin adapter answering with undici request())', async () => {
    const body = Object.assign(Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]), {
      text: async () => '',
    });
    expect((await collect(body)).toString()).toBe('{"a":1}');
  });
});

/** OpenAI-format stream conversion on recorded-form transcripts, split at every byte. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatCompletionChunk } from '../../common/openai.types';
import { reassembleChatStream } from '../../common/reassemble';
import { isAnnotationOnly } from '../azure/azure.response';
import { openaiStreamChunks } from './openai.stream';

type Keep = ((c: ChatCompletionChunk) => boolean) | undefined;

function fixture(path: string): Buffer {
  return readFileSync(join(__dirname, '..', path));
}

async function collect(parts: Buffer[], keep: Keep): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of openaiStreamChunks(
    (async function* () {
      for (const p of parts) yield p;
    })(),
    keep,
  ))
    out.push(c);
  return out;
}

const azureKeep: Keep = (c) => !isAnnotationOnly(c);

describe('OpenAI-format stream conversion (fixture transcripts)', () => {
  it.each<[string, Keep]>([
    ['openai/__fixtures__/text.sse', undefined],
    ['openai/__fixtures__/tool-calls.sse', undefined],
    ['azure/__fixtures__/content-filter.sse', undefined],
    ['azure/__fixtures__/content-filter.sse', azureKeep],
  ])('gives the same chunks for %s split at every byte position', async (name, keep) => {
    const bytes = fixture(name);
    const whole = await collect([bytes], keep);
    for (let i = 1; i < bytes.length; i++) {
      const split = await collect([bytes.subarray(0, i), bytes.subarray(i)], keep);
      if (JSON.stringify(split) !== JSON.stringify(whole))
        throw new Error(`${name} split at byte ${i} differs`);
    }
    const crlf = Buffer.from(bytes.toString('utf8').replace(/\n/g, '\r\n'));
    expect(
      await collect(
        Array.from(crlf, (b) => Buffer.from([b])),
        keep,
      ),
    ).toEqual(whole);
  });

  it('keeps the last text delta that arrives with finish_reason', async () => {
    const chunks = await collect([fixture('openai/__fixtures__/text.sse')], undefined);
    const last = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(last?.choices[0]).toMatchObject({ delta: { content: '日本語も。' }, finish_reason: 'stop' });
    const done = reassembleChatStream(chunks);
    expect(done.choices[0]?.message.content).toBe('Grüezi aus Zürich 🇨🇭, 日本語も。');
    expect(done.usage?.total_tokens).toBe(26);
  });

  it('loses no tool-call argument fragment', async () => {
    const done = reassembleChatStream(
      await collect([fixture('openai/__fixtures__/tool-calls.sse')], undefined),
    );
    const calls = done.choices[0]?.message.tool_calls ?? [];
    expect(
      calls.map((c) =>
        c.type === 'function' ? [c.id, c.function.name, JSON.parse(c.function.arguments)] : null,
      ),
    ).toEqual([
      ['call_AbC1', 'get_weather', { city: 'Zürich' }],
      ['call_DeF2', 'get_time', { tz: 'Europe/Zurich' }],
    ]);
    expect(done.choices[0]?.finish_reason).toBe('tool_calls');
    expect(done.usage?.prompt_tokens_details?.cached_tokens).toBe(64);
  });

  it('reads Azure content-filter streams: annotation left out for azure, filtered finish kept', async () => {
    const bytes = fixture('azure/__fixtures__/content-filter.sse');
    const raw = await collect([bytes], undefined);
    expect(raw[0]?.id).toBe('');
    const azure = await collect([bytes], azureKeep);
    expect(azure).toHaveLength(raw.length - 1);
    expect(azure.every((c) => c.id === 'chatcmpl-AzR1')).toBe(true);
    const done = reassembleChatStream(azure);
    expect(done.choices[0]).toMatchObject({
      message: { content: 'Die Geschichte beginnt' },
      finish_reason: 'content_filter',
    });
    expect(done.usage?.total_tokens).toBe(25);
  });
});

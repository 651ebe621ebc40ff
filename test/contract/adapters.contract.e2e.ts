/**
 * The adapter contract: every scenario run against every built-in adapter, through the whole
 * gateway, with the official `openai` SDK as the caller and each platform's faithful mock as the
 * upstream. What a platform cannot do is declared in the table (adapters.table.ts) with the
 * reason, and the gateway must refuse it with a clear 400 before anything goes upstream.
 */
import OpenAI from 'openai';
import { reassembleChatStream } from '../../src/common/reassemble';
import type { ChatCompletionChunk } from '../../src/common/openai.types';
import { startGateway, type Harness } from '../support/gateway-harness';
import { OUTPUT_FILTER_TRIGGER, PROMPT_FILTER_TRIGGER } from '../support/mock-azure';
import type { RecordedRequest } from '../support/mock-upstream';
import { CONTRACT_ROWS, type ContractRow, type RunningUpstream } from './adapters.table';

type Json = Record<string, unknown>;
type Message = OpenAI.Chat.ChatCompletionMessageParam;

const MASTER = 'test-master-key-0123456789abcdef';
/** A 1×1 PNG. */
const PNG_DATA_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const HTTP_IMAGE = 'https://images.example.com/cat.png';
/** Over 1024 tokens at any common count (four characters or one word a token). */
const LONG_SYSTEM = 'You are a careful assistant who answers questions about the weather briefly. '.repeat(
  110,
);

const weatherTool: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

function isSupported(v: unknown): v is true {
  return v === true;
}

function reason(v: unknown): string {
  const o = v as { unsupported?: string; notApplicable?: string; dropped?: string };
  return o.unsupported ?? o.notApplicable ?? o.dropped ?? '';
}

async function chunksOf(
  stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>,
): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of stream) out.push(c as unknown as ChatCompletionChunk);
  return out;
}

describe('adapter contract (every built-in adapter through the gateway, openai SDK as caller)', () => {
  const upstreams = new Map<string, RunningUpstream>();
  let gw: Harness;
  let client: OpenAI;

  beforeAll(async () => {
    const providers: string[] = [];
    const routes: string[] = [];
    for (const row of CONTRACT_ROWS) {
      const up = await row.start();
      upstreams.set(row.name, up);
      providers.push(`  ${row.name}-a: ${up.provider}`, `  ${row.name}-b: ${up.provider}`);
      const models = new Set(
        [row.models.chat, row.models.reasoning, row.models.embedding, row.models.midstreamError].filter(
          (m): m is string => !!m,
        ),
      );
      for (const m of models) {
        routes.push(
          `  - match: { exact: "${row.name}/${m}" }`,
          `    targets: [ { provider: ${row.name}-a, model: "${m}" }, { provider: ${row.name}-b, model: "${m}", priority: 1 } ]`,
        );
      }
    }
    gw = await startGateway(`providers:\n${providers.join('\n')}\nroutes:\n${routes.join('\n')}\n`);
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'caller', maxRetries: 0, timeout: 20_000 });
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await Promise.all([...upstreams.values()].map((u) => u.close()));
  });

  /** The record of a call, once the trace writer has it. */
  const record = async (id: string): Promise<Json> => {
    const end = Date.now() + 10_000;
    for (;;) {
      const res = await fetch(`${gw.url}/api/records/${id}`, {
        headers: { authorization: `Bearer ${MASTER}` },
      });
      if (res.status === 200) return (await res.json()) as Json;
      if (Date.now() > end) throw new Error(`record ${id} not readable within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  describe.each(CONTRACT_ROWS.map((r) => [r.name, r] as const))('%s', (_name, row: ContractRow) => {
    const model = `${row.name}/${row.models.chat}`;
    const up = (): RunningUpstream => upstreams.get(row.name) as RunningUpstream;
    const requests = (): RecordedRequest[] => up().requests ?? [];
    /** The body of the last platform call that carried a conversation. */
    const lastCall = (): Json => {
      const list = requests();
      for (let i = list.length - 1; i >= 0; i--) {
        const b = list[i]?.body as Json | null;
        if (b && typeof b === 'object' && ('messages' in b || 'contents' in b || 'additional_messages' in b))
          return b;
      }
      throw new Error('no conversation reached the upstream');
    };
    const create = (params: Omit<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, 'model'>) =>
      client.chat.completions.create({ ...params, model });
    const stream = async (
      params: Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, 'model' | 'stream'>,
    ) =>
      chunksOf(
        await client.chat.completions.create({
          ...params,
          model,
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
    /** The gateway refuses the call with a clear 400 and sends nothing upstream. */
    const expectRefused = async (call: Promise<unknown>, why: string): Promise<void> => {
      const before = requests().length;
      const err = await call.then(
        () => new Error(`expected a 400 (${why})`),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      const e = err as InstanceType<typeof OpenAI.BadRequestError>;
      expect(e.message.length).toBeGreaterThan(10);
      expect((e.error as { type?: string }).type).toBe('invalid_request_error');
      expect(requests().length).toBe(before);
    };

    it('plain chat, non-stream: the answer, a stop finish and usage', async () => {
      const res = await create({ messages: [{ role: 'user', content: 'hello contract' }] });
      expect(res.object).toBe('chat.completion');
      expect(res.choices[0]?.message.role).toBe('assistant');
      expect(res.choices[0]?.message.content).toContain('hello contract');
      expect(res.choices[0]?.finish_reason).toBe('stop');
      expect(res.usage?.total_tokens).toBeGreaterThan(0);
    });

    it('plain chat, stream: deltas that join to the answer, one finish, usage last', async () => {
      const all = await stream({ messages: [{ role: 'user', content: 'stream the contract' }] });
      const annotation = (c: ChatCompletionChunk): boolean =>
        c.choices.length === 0 && !c.usage && c.id === '' && 'prompt_filter_results' in c;
      if (row.streamAnnotations) expect(annotation(all[0] as ChatCompletionChunk)).toBe(true);
      const chunks = all.filter((c) => !annotation(c));
      expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
      const done = reassembleChatStream(chunks);
      expect(done.choices[0]?.message.content).toContain('stream the contract');
      expect(
        chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]?.finish_reason),
      ).toEqual(['stop']);
      expect(chunks[chunks.length - 1]?.usage?.total_tokens).toBeGreaterThan(0);
    });

    it('system prompt: carried in the platform’s own place (or dropped as declared)', async () => {
      const res = await create({
        messages: [
          { role: 'system', content: 'Answer like a pirate.' },
          { role: 'user', content: 'hello with a system prompt' },
        ],
      });
      expect(res.choices[0]?.message.content).toContain('hello with a system prompt');
      if (up().requests === null) return;
      if (isSupported(row.system)) expect(row.systemOf(lastCall())).toContain('Answer like a pirate.');
      else expect(JSON.stringify(lastCall())).not.toContain('Answer like a pirate.');
    });

    it('multi-turn: every turn reaches the platform, the last one is answered', async () => {
      const messages: Message[] = [
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first answer' },
        { role: 'user', content: 'second question' },
      ];
      const res = await create({ messages });
      expect(res.choices[0]?.message.content).toContain('second question');
      const chunks = await stream({ messages });
      expect(reassembleChatStream(chunks).choices[0]?.message.content).toContain('second question');
      if (up().requests) expect(row.turnsOf(lastCall())).toBe(3);
    });

    it.each([
      ['data URL', PNG_DATA_URL, 'data:image/png', 'imageDataUrl'],
      ['http URL', HTTP_IMAGE, HTTP_IMAGE, 'imageHttpUrl'],
    ] as const)('image by %s', async (_kind, url, seen, key) => {
      const messages: Message[] = [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is in this picture' },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ];
      const declared = row[key];
      if (!isSupported(declared)) {
        await expectRefused(create({ messages }), reason(declared));
        return;
      }
      const res = await create({ messages });
      expect(res.choices[0]?.message.content).toContain('what is in this picture');
      if (up().requests) expect(row.imagesOf(lastCall())).toEqual([seen]);
    });

    describe('tools', () => {
      const ask: Message = { role: 'user', content: 'what is the weather in Paris?' };

      const roundTrip = async (first: OpenAI.Chat.ChatCompletion): Promise<void> => {
        expect(first.choices[0]?.finish_reason).toBe('tool_calls');
        const call = first.choices[0]?.message.tool_calls?.[0];
        if (call?.type !== 'function') throw new Error('expected a function call');
        expect(call.function.name).toBe('get_weather');
        expect(call.id.length).toBeGreaterThan(0);
        expect(typeof JSON.parse(call.function.arguments)).toBe('object');
        const calls = (first.choices[0]?.message.tool_calls ?? []).filter((c) => c.type === 'function');
        const second = await create({
          tools: [weatherTool],
          messages: [
            ask,
            { role: 'assistant', content: first.choices[0]?.message.content ?? null, tool_calls: calls },
            ...calls.map((c): Message => ({
              role: 'tool',
              tool_call_id: c.id,
              content: 'sunny, 24 degrees',
            })),
          ],
        });
        expect(second.choices[0]?.finish_reason).toBe('stop');
        expect(second.choices[0]?.message.content).toContain('sunny, 24 degrees');
      };

      it('non-stream: a tool call, then the answer to its result', async () => {
        if (!isSupported(row.tools)) {
          await expectRefused(create({ tools: [weatherTool], messages: [ask] }), reason(row.tools));
          return;
        }
        await roundTrip(await create({ tools: [weatherTool], messages: [ask] }));
      });

      it('stream: tool-call deltas that join to whole arguments, then the answer', async () => {
        if (!isSupported(row.tools)) {
          await expectRefused(stream({ tools: [weatherTool], messages: [ask] }), reason(row.tools));
          return;
        }
        const chunks = await stream({ tools: [weatherTool], messages: [ask] });
        const done = reassembleChatStream(chunks) as unknown as OpenAI.Chat.ChatCompletion;
        await roundTrip(done);
      });
    });

    describe('limits', () => {
      const words = 'one two three four five six seven eight nine ten eleven twelve';
      if (!isSupported(row.limits)) {
        it(`not sent (${reason(row.limits)}): the answer comes whole`, async () => {
          const res = await create({
            max_tokens: 3,
            stop: ['five'],
            messages: [{ role: 'user', content: words }],
          });
          expect(res.choices[0]?.message.content).toContain(words);
          expect(res.choices[0]?.finish_reason).toBe('stop');
        });
        return;
      }

      it('max_tokens cuts the answer with finish_reason length, stream and not', async () => {
        const res = await create({ max_tokens: 3, messages: [{ role: 'user', content: words }] });
        expect(res.choices[0]?.finish_reason).toBe('length');
        expect(res.choices[0]?.message.content?.length).toBeLessThan(words.length);
        const chunks = await stream({ max_tokens: 3, messages: [{ role: 'user', content: words }] });
        expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['length']);
      });

      it('stop ends the answer before the stop sequence', async () => {
        const res = await create({ stop: ['five'], messages: [{ role: 'user', content: words }] });
        expect(res.choices[0]?.finish_reason).toBe('stop');
        expect(res.choices[0]?.message.content).toContain('four');
        expect(res.choices[0]?.message.content).not.toContain('five');
      });
    });

    it('embeddings: vectors of the asked input count (or a clear 400)', async () => {
      const params = {
        model: `${row.name}/${row.models.embedding ?? row.models.chat}`,
        input: ['one text', 'two texts'],
      };
      if (!isSupported(row.embeddings)) {
        await expectRefused(client.embeddings.create(params), reason(row.embeddings));
        return;
      }
      const res = await client.embeddings.create(params);
      expect(res.object).toBe('list');
      expect(res.data.map((d) => d.index)).toEqual([0, 1]);
      expect(res.data[0]?.embedding.length).toBeGreaterThan(0);
      expect(res.data[0]?.embedding.length).toBe(res.data[1]?.embedding.length);
      expect(res.data[0]?.embedding).not.toEqual(res.data[1]?.embedding);
    });

    it('legacy completions: a text completion (or a clear 400)', async () => {
      const params = { model, prompt: 'once upon a time' };
      if (!isSupported(row.completions)) {
        await expectRefused(client.completions.create(params), reason(row.completions));
        return;
      }
      const res = await client.completions.create(params);
      expect(res.object).toBe('text_completion');
      expect(res.choices[0]?.text).toContain('once upon a time');
    });

    describe('upstream errors', () => {
      const errors = row.errors;
      if (!('retryable' in errors)) {
        it(`not applicable: ${errors.notApplicable}`, () => {
          expect(up().failNext).toBeUndefined();
        });
        return;
      }

      it(`retries a ${errors.retryable} on the next target and answers`, async () => {
        const before = requests().length;
        up().failNext?.(errors.retryable);
        const raw = await create({ messages: [{ role: 'user', content: 'retry me' }] }).withResponse();
        expect(raw.data.choices[0]?.message.content).toContain('retry me');
        expect(requests().length - before).toBeGreaterThanOrEqual(2);
        const rec = await record(raw.response.headers.get('x-gateway-trace-id') ?? '');
        const attempts = rec.attempts as Array<{ provider: string; status: number | null }>;
        expect(attempts.map((a) => [a.provider, a.status])).toEqual([
          [`${row.name}-a`, errors.retryable],
          [`${row.name}-b`, 200],
        ]);
      });

      it(`answers a ${errors.retryable} on every target with an OpenAI error of a fitting status`, async () => {
        up().failNext?.(errors.retryable);
        up().failNext?.(errors.retryable);
        const err = await create({ messages: [{ role: 'user', content: 'fail me' }] }).catch(
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(OpenAI.APIError);
        const e = err as InstanceType<typeof OpenAI.APIError>;
        expect(e.status).toBe(errors.retryable === 429 || errors.retryable >= 503 ? 503 : 502);
        expect((e.error as { type?: string }).type).toBe('api_error');
        expect(e.message).toContain(String(errors.retryable));
      });

      it('ends a stream that fails after its first byte with an OpenAI error event, recorded as an error', async () => {
        if (!isSupported(row.midstream))
          throw new Error('a row with upstream errors must say how its stream fails');
        const failing = row.models.midstreamError ? `${row.name}/${row.models.midstreamError}` : model;
        if (!row.models.midstreamError) up().breakNextStream?.();
        const raw = await client.chat.completions
          .create({
            model: failing,
            stream: true,
            messages: [{ role: 'user', content: 'a long enough answer for the stream to break somewhere' }],
          })
          .withResponse();
        let text = '';
        const err = await (async () => {
          for await (const c of raw.data) text += c.choices[0]?.delta.content ?? '';
        })().catch((e: unknown) => e);
        expect(raw.response.status).toBe(200);
        expect(text.length).toBeGreaterThan(0);
        expect(err).toBeInstanceOf(OpenAI.APIError);
        expect((err as InstanceType<typeof OpenAI.APIError>).message.length).toBeGreaterThan(0);
        const rec = await record(raw.response.headers.get('x-gateway-trace-id') ?? '');
        expect(rec.status).toBe('error');
      });

      it(`returns a caller-fault ${errors.fatal} at once, in OpenAI's shape`, async () => {
        const before = requests().length;
        up().failNext?.(errors.fatal);
        const err = await stream({ messages: [{ role: 'user', content: 'bad request' }] }).catch(
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(OpenAI.APIError);
        const e = err as InstanceType<typeof OpenAI.APIError>;
        expect(e.status).toBe(errors.fatalStatus);
        const body = e.error as { message?: unknown; type?: unknown };
        expect(typeof body.message).toBe('string');
        expect(body.type).toBe('invalid_request_error');
        expect(requests().length - before).toBe(1);
        // the target is not cooled down by a caller fault: the next call goes to it again
        const ok = await create({ messages: [{ role: 'user', content: 'after the fault' }] });
        expect(ok.choices[0]?.message.content).toContain('after the fault');
      });
    });

    describe('usage', () => {
      it('is recorded from the provider (source: provider), stream and not', async () => {
        const raw = await create({ messages: [{ role: 'user', content: 'count my tokens' }] }).withResponse();
        const rec = await record(raw.response.headers.get('x-gateway-trace-id') ?? '');
        const usage = rec.usage as Json;
        expect(usage).toMatchObject({ source: 'provider', total_tokens: raw.data.usage?.total_tokens });
        expect(raw.data.usage?.prompt_tokens_details?.cached_tokens ?? 0).toBeGreaterThanOrEqual(0);

        const s = await client.chat.completions
          .create({ model, stream: true, messages: [{ role: 'user', content: 'count my streamed tokens' }] })
          .withResponse();
        const chunks = await chunksOf(s.data);
        // not asked for: the usage chunk is held back from the client, yet recorded
        expect(chunks.some((c) => c.usage)).toBe(false);
        const srec = await record(s.response.headers.get('x-gateway-trace-id') ?? '');
        expect((srec.usage as Json).source).toBe('provider');
        expect((srec.usage as Json).total_tokens).toBeGreaterThan(0);
      });

      if (row.usage.estimated === true) {
        it('is estimated (source: estimated) when the upstream reports none', async () => {
          expect(up().omitUsageNext).toBeDefined();
          up().omitUsageNext?.();
          const raw = await create({
            messages: [{ role: 'user', content: 'no usage from upstream' }],
          }).withResponse();
          expect(raw.data.usage).toBeUndefined();
          const rec = await record(raw.response.headers.get('x-gateway-trace-id') ?? '');
          expect(rec.usage).toMatchObject({ source: 'estimated', cached_tokens: 0, reasoning_tokens: 0 });
          expect((rec.usage as Json).total_tokens).toBeGreaterThan(0);
        });
      }

      const cached = row.usage.cached;
      if (typeof cached === 'string') {
        it('reports cached prompt tokens on a repeated prompt', async () => {
          const system =
            cached === 'cache-control'
              ? ({
                  role: 'system',
                  content: [{ type: 'text', text: LONG_SYSTEM, cache_control: { type: 'ephemeral' } }],
                } as unknown as Message)
              : ({ role: 'system', content: LONG_SYSTEM } as Message);
          const ask = (q: string) =>
            create({ messages: [system, { role: 'user', content: q }] }).withResponse();
          await ask('warm the cache');
          const raw = await ask('read the cache');
          const cachedTokens = raw.data.usage?.prompt_tokens_details?.cached_tokens ?? 0;
          expect(cachedTokens).toBeGreaterThan(0);
          expect(cachedTokens).toBeLessThanOrEqual(raw.data.usage?.prompt_tokens ?? 0);
          const rec = await record(raw.response.headers.get('x-gateway-trace-id') ?? '');
          expect((rec.usage as Json).cached_tokens).toBe(cachedTokens);
        });
      } else {
        it(`reports no cached tokens (${cached.notApplicable})`, async () => {
          const ask = () =>
            create({
              messages: [
                { role: 'system', content: LONG_SYSTEM },
                { role: 'user', content: 'no cache here' },
              ],
            });
          await ask();
          const res = await ask();
          expect(res.usage?.total_tokens).toBeGreaterThan(0);
          expect(res.usage?.prompt_tokens_details?.cached_tokens ?? 0).toBe(0);
        });
      }

      const reasoningTokens = row.usage.reasoningTokens;
      if (isSupported(reasoningTokens)) {
        it('reports reasoning tokens inside completion_tokens', async () => {
          const raw = await client.chat.completions
            .create({
              model: `${row.name}/${row.models.reasoning ?? row.models.chat}`,
              reasoning_effort: 'low',
              messages: [{ role: 'user', content: 'think about this' }],
            })
            .withResponse();
          const n = raw.data.usage?.completion_tokens_details?.reasoning_tokens ?? 0;
          expect(n).toBeGreaterThan(0);
          expect(raw.data.usage?.completion_tokens).toBeGreaterThanOrEqual(n);
          const rec = await record(raw.response.headers.get('x-gateway-trace-id') ?? '');
          expect((rec.usage as Json).reasoning_tokens).toBe(n);
        });
      } else {
        it(`reports no reasoning tokens apart (${reasoningTokens.notApplicable})`, async () => {
          const res = await client.chat.completions.create({
            model: `${row.name}/${row.models.reasoning ?? row.models.chat}`,
            reasoning_effort: 'low',
            messages: [{ role: 'user', content: 'think about this' }],
          });
          expect(res.usage?.completion_tokens).toBeGreaterThan(0);
          expect(res.usage?.completion_tokens_details?.reasoning_tokens ?? 0).toBe(0);
        });
      }
    });

    describe('reasoning with signatures across a tool round trip', () => {
      if (!isSupported(row.reasoningRoundTrip)) {
        it(`takes reasoning_effort and answers without thinking blocks (${reason(row.reasoningRoundTrip)})`, async () => {
          const res = await create({
            reasoning_effort: 'low',
            messages: [{ role: 'user', content: 'think first' }],
          });
          expect(res.choices[0]?.message.content).toContain('think first');
          expect((res.choices[0]?.message as { thinking_blocks?: unknown }).thinking_blocks).toBeUndefined();
        });
        return;
      }
      const reasoningModel = `${row.name}/${row.models.reasoning ?? row.models.chat}`;
      const ask: Message = { role: 'user', content: 'weather in Paris, think first' };
      type Reasoned = OpenAI.Chat.ChatCompletionMessage & {
        reasoning_content?: string;
        thinking_blocks?: Array<{ type: string; signature?: string; thinking?: string }>;
      };

      const sendBack = (message: Reasoned, signature?: string) => {
        const calls = (message.tool_calls ?? []).filter((c) => c.type === 'function');
        const blocks = (message.thinking_blocks ?? []).map((b) =>
          signature !== undefined && b.signature ? { ...b, signature } : b,
        );
        const assistant = {
          role: 'assistant',
          content: message.content ?? null,
          tool_calls: calls,
          reasoning_content: message.reasoning_content,
          thinking_blocks: blocks,
        } as unknown as Message;
        return client.chat.completions.create({
          model: reasoningModel,
          reasoning_effort: 'low',
          tools: [weatherTool],
          messages: [
            ask,
            assistant,
            ...calls.map((c): Message => ({ role: 'tool', tool_call_id: c.id, content: 'rainy' })),
          ],
        });
      };

      const check = async (message: Reasoned): Promise<void> => {
        expect(message.reasoning_content?.length).toBeGreaterThan(0);
        expect(
          message.thinking_blocks?.some((b) => typeof b.signature === 'string' && b.signature.length > 0),
        ).toBe(true);
        expect(message.tool_calls?.length).toBeGreaterThan(0);
        const second = await sendBack(message);
        expect(second.choices[0]?.message.content).toContain('rainy');
        // the platform checks the signature: a forged one is refused, not silently accepted
        const forged = await sendBack(message, 'Zm9yZ2Vk').catch((e: unknown) => e);
        expect(forged).toBeInstanceOf(OpenAI.BadRequestError);
      };

      it('non-stream: reasoning_content and signed thinking_blocks go back and are accepted', async () => {
        const first = await client.chat.completions.create({
          model: reasoningModel,
          reasoning_effort: 'low',
          tools: [weatherTool],
          messages: [ask],
        });
        await check(first.choices[0]?.message as Reasoned);
      });

      it('stream: the reassembled message goes back the same way', async () => {
        const chunks = await chunksOf(
          await client.chat.completions.create({
            model: reasoningModel,
            reasoning_effort: 'low',
            stream: true,
            tools: [weatherTool],
            messages: [ask],
          }),
        );
        expect(chunks.some((c) => (c.choices[0]?.delta.reasoning_content ?? '').length > 0)).toBe(true);
        await check(reassembleChatStream(chunks).choices[0]?.message as Reasoned);
      });
    });
  });

  describe.each(['azure', 'azure-v1'])('%s content filter', (name) => {
    const model = `${name}/gpt-4o-prod`;
    const requests = (): RecordedRequest[] => upstreams.get(name)?.requests ?? [];

    it('answers a refused prompt with a 400 content_filter naming the category, not retried', async () => {
      const before = requests().length;
      const err = await client.chat.completions
        .create({ model, messages: [{ role: 'user', content: `please ${PROMPT_FILTER_TRIGGER}` }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      const e = err as InstanceType<typeof OpenAI.BadRequestError>;
      expect(e.code).toBe('content_filter');
      expect(e.param).toBe('prompt');
      expect((e.error as { type?: string }).type).toBe('invalid_request_error');
      expect(e.message).toContain('filtered: violence (high)');
      expect(requests().length - before).toBe(1);
    });

    it('passes a filtered answer through with finish_reason content_filter, stream and not', async () => {
      const messages: Message[] = [{ role: 'user', content: `about ${OUTPUT_FILTER_TRIGGER}` }];
      const res = await client.chat.completions.create({ model, messages });
      expect(res.choices[0]?.finish_reason).toBe('content_filter');
      const chunks = await chunksOf(await client.chat.completions.create({ model, messages, stream: true }));
      expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['content_filter']);
    });
  });
});

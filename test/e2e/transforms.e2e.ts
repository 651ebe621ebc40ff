/**
 * Transforms observed where they act: request steps at the mock upstream, response_prefix at the
 * client, image_to_text at the vision upstream, in the traces and on /metrics. The caller is always
 * the official openai SDK.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, type Harness } from '../support/gateway-harness';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';

const MASTER = 'test-master-key-0123456789abcdef';

/** A stream whose first delta calls a tool and whose content comes after it, in OpenAI's SSE form. */
interface ScriptedUpstream {
  baseUrl: string;
  bodies: unknown[];
  close(): Promise<void>;
}

async function startToolThenTextUpstream(): Promise<ScriptedUpstream> {
  const bodies: unknown[] = [];
  const head = { id: 'chatcmpl-scripted1', object: 'chat.completion.chunk', created: 1_760_000_000 };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as {
        model: string;
        stream_options?: { include_usage?: boolean };
      };
      bodies.push(body);
      const chunk = (delta: object, finish: string | null) => ({
        ...head,
        model: body.model,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      });
      const events: object[] = [
        chunk(
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                index: 0,
                id: 'call_scripted1',
                type: 'function',
                function: { name: 'lookup', arguments: '' },
              },
            ],
          },
          null,
        ),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"q":"x"}' } }] }, null),
        chunk({ content: 'Looked' }, null),
        chunk({ content: ' it up.' }, null),
        chunk({}, 'tool_calls'),
      ];
      if (body.stream_options?.include_usage) {
        events.push({
          ...head,
          model: body.model,
          choices: [],
          usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
        });
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('') + 'data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A distinct image per test: the description cache is keyed by image content. */
let imageSeq = 0;
function freshImage(): { type: 'image_url'; image_url: { url: string } } {
  imageSeq++;
  const payload = Buffer.from(`image-${imageSeq}-${process.pid}-${Date.now()}`).toString('base64');
  return { type: 'image_url', image_url: { url: `data:image/png;base64,${payload}` } };
}

type Sent = Record<string, unknown>;

describe('route transforms through the gateway', () => {
  let up: MockOpenAI;
  let scripted: ScriptedUpstream;
  let gw: Harness;
  let client: OpenAI;

  const api = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${MASTER}` } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  /** Polls until `read` gives a value; traces are readable within 2 s (3 s allowed under load). */
  const eventually = async <T>(what: string, read: () => Promise<T | undefined>): Promise<T> => {
    const end = Date.now() + 3000;
    for (;;) {
      const v = await read();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`${what} not readable in time`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const traceOf = (id: string): Promise<any> =>
    eventually(`trace ${id}`, async () => {
      const r = await api(`/api/records/${id}`);
      return r.status === 200 ? r.body : undefined;
    });

  /** The trace of the image description made for the call `parentId`. */
  const descriptionOf = (parentId: string): Promise<any> =>
    eventually(`description trace of ${parentId}`, async () => {
      const r = await api('/api/records?limit=100');
      const rows = (r.body?.data ?? []) as Array<{ metadata: { image_description_for?: string } | null }>;
      return rows.find((t) => t.metadata?.image_description_for === parentId);
    });

  const imageCacheCounts = async (): Promise<{ hit: number; miss: number }> => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const read = (result: string) => {
      const m = new RegExp(`^gateway_image_description_cache_total\\{result="${result}"\\} (\\d+)`, 'm').exec(
        text,
      );
      return m ? Number(m[1]) : 0;
    };
    return { hit: read('hit'), miss: read('miss') };
  };

  const visionCalls = () => up.requests.filter((r) => (r.body as Sent | null)?.model === 'vision-model');

  beforeAll(async () => {
    up = await startMockOpenAI();
    scripted = await startToolThenTextUpstream();
    gw = await startGateway(`
providers:
  up: { type: openai, base_url: "${up.baseUrl}", api_key: k }
  scripted: { type: openai, base_url: "${scripted.baseUrl}", api_key: k }
  textonly: { type: mock, vision: false }
routes:
  - match: { exact: shaped }
    targets:
      - provider: up
        model: target-model
        transforms: { max_tokens_cap: 50 }
    transforms:
      merge_consecutive_user: join
      drop_empty_messages: true
      strip_assistant_tags: [think]
      max_tokens_cap: 500
      stop: [ "END", "STOP" ]
      defaults: { temperature: 0.3 }
      overrides: { top_p: 0.9 }
      drop_params: [ user ]
  - match: { exact: keep-last }
    targets: [ { provider: up } ]
    transforms: { merge_consecutive_user: keep_last }
  - match: { exact: tools-kept }
    targets: [ { provider: up } ]
    transforms: { drop_empty_messages: true }
  - match: { exact: capped }
    targets: [ { provider: up } ]
    transforms: { max_tokens_cap: 100 }
  - match: { exact: stops }
    targets: [ { provider: up } ]
    transforms: { stop: [ "B", "C", "A", "D", "E" ] }
  - match: { exact: per-target }
    targets:
      - provider: up
        model: first-model
        priority: 0
        transforms: { max_tokens_cap: 10 }
      - provider: up
        model: second-model
        priority: 1
        transforms: { stop: [ "T2" ], defaults: { seed: 2 } }
    transforms:
      max_tokens_cap: 300
      stop: [ "R" ]
      defaults: { seed: 1, temperature: 0.5 }
      drop_params: [ user ]
  - match: { exact: filled }
    targets: [ { provider: up } ]
    transforms: { non_empty_content: "." }
  - match: { exact: prefixed }
    targets: [ { provider: up } ]
    transforms: { response_prefix: "PREFIX: " }
  - match: { exact: prefixed-tool-first }
    targets: [ { provider: scripted } ]
    transforms: { response_prefix: "PREFIX: " }
  - match: { exact: vision }
    targets: [ { provider: up, model: vision-model } ]
  - match: { exact: blind }
    targets: [ { provider: textonly } ]
    transforms: { image_to_text: { model: vision, prompt: "Describe it." } }
  - match: { exact: sighted }
    targets: [ { provider: up, model: sighted-model } ]
    transforms: { image_to_text: { model: vision } }
`);
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'x', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
    await scripted.close();
  });
  beforeEach(() => {
    up.requests.length = 0;
  });

  describe('request steps, seen at the upstream', () => {
    it('applies the request steps and keeps the target key over the route key', async () => {
      await client.chat.completions.create({
        model: 'shaped',
        max_tokens: 4000,
        stop: 'STOP',
        user: 'someone',
        messages: [
          { role: 'user', content: 'first' },
          { role: 'user', content: 'second' },
          { role: 'assistant', content: '<think>hidden</think>visible' },
          { role: 'user', content: '   ' },
          { role: 'user', content: 'third' },
        ],
      });
      const sent = up.requests[0]!.body as Sent;
      expect(sent.model).toBe('target-model');
      expect(sent.messages).toEqual([
        { role: 'user', content: 'first\n\nsecond' },
        { role: 'assistant', content: 'visible' },
        { role: 'user', content: 'third' },
      ]);
      expect(sent.max_tokens).toBe(50);
      expect(sent.stop).toEqual(['STOP', 'END']);
      expect(sent.temperature).toBe(0.3);
      expect(sent.top_p).toBe(0.9);
      expect('user' in sent).toBe(false);
    });

    it('defaults leave a parameter the client set; overrides replace it', async () => {
      await client.chat.completions.create({
        model: 'shaped',
        temperature: 0.8,
        top_p: 0.1,
        messages: [{ role: 'user', content: 'q' }],
      });
      const sent = up.requests[0]!.body as Sent;
      expect(sent.temperature).toBe(0.8);
      expect(sent.top_p).toBe(0.9);
      expect('max_tokens' in sent).toBe(false);
    });

    it('merge_consecutive_user: keep_last keeps only the last of each run', async () => {
      await client.chat.completions.create({
        model: 'keep-last',
        messages: [
          { role: 'system', content: 'sys' },
          { role: 'user', content: 'one' },
          { role: 'user', content: 'two' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'three' },
          { role: 'user', content: 'four' },
        ],
      });
      expect((up.requests[0]!.body as Sent).messages).toEqual([
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'two' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'four' },
      ]);
    });

    it('drop_empty_messages keeps the tool-call turn and the tool result, drops the blank ones', async () => {
      const toolCall = {
        id: 'call_1',
        type: 'function' as const,
        function: { name: 'lookup', arguments: '{"q":"x"}' },
      };
      await client.chat.completions.create({
        model: 'tools-kept',
        messages: [
          { role: 'system', content: ' ' },
          { role: 'user', content: 'look it up' },
          { role: 'assistant', content: null, tool_calls: [toolCall] },
          { role: 'tool', tool_call_id: 'call_1', content: '' },
          { role: 'assistant', content: '' },
          { role: 'user', content: [{ type: 'text', text: '  ' }] },
          { role: 'user', content: 'and now?' },
        ],
      });
      expect((up.requests[0]!.body as Sent).messages).toEqual([
        { role: 'user', content: 'look it up' },
        { role: 'assistant', content: null, tool_calls: [toolCall] },
        { role: 'tool', tool_call_id: 'call_1', content: '' },
        { role: 'user', content: 'and now?' },
      ]);
    });

    it('max_tokens_cap lowers max_tokens and max_completion_tokens, and adds neither', async () => {
      await client.chat.completions.create({
        model: 'capped',
        max_completion_tokens: 1000,
        messages: [{ role: 'user', content: 'q' }],
      });
      await client.chat.completions.create({
        model: 'capped',
        max_tokens: 900,
        messages: [{ role: 'user', content: 'q' }],
      });
      await client.chat.completions.create({
        model: 'capped',
        max_tokens: 20,
        messages: [{ role: 'user', content: 'q' }],
      });
      await client.chat.completions.create({ model: 'capped', messages: [{ role: 'user', content: 'q' }] });
      const sent = up.requests.map((r) => r.body as Sent);
      expect(sent[0]).toMatchObject({ max_completion_tokens: 100 });
      expect('max_tokens' in sent[0]!).toBe(false);
      expect(sent[1]).toMatchObject({ max_tokens: 100 });
      expect('max_completion_tokens' in sent[1]!).toBe(false);
      expect(sent[2]).toMatchObject({ max_tokens: 20 });
      expect('max_tokens' in sent[3]! || 'max_completion_tokens' in sent[3]!).toBe(false);
    });

    it('stop merges the request first, drops duplicates, keeps order, and caps at the provider limit (4)', async () => {
      await client.chat.completions.create({
        model: 'stops',
        stop: ['A', 'Z'],
        messages: [{ role: 'user', content: 'q' }],
      });
      await client.chat.completions.create({ model: 'stops', messages: [{ role: 'user', content: 'q' }] });
      expect((up.requests[0]!.body as Sent).stop).toEqual(['A', 'Z', 'B', 'C']);
      expect((up.requests[1]!.body as Sent).stop).toEqual(['B', 'C', 'A', 'D']);
    });

    it("a target's transforms replace the route's keys of the same name, for that target only", async () => {
      up.setModelBehavior('first-model', { status: 500 });
      try {
        await client.chat.completions.create({
          model: 'per-target',
          max_tokens: 1000,
          user: 'u',
          messages: [{ role: 'user', content: 'q' }],
        });
      } finally {
        up.setModelBehavior('first-model', null);
      }
      const [first, second] = up.requests.map((r) => r.body as Sent);
      // first target: its max_tokens_cap, the route's stop and defaults
      expect(first).toMatchObject({ model: 'first-model', max_tokens: 10, stop: ['R'], seed: 1 });
      expect(first!.temperature).toBe(0.5);
      // second target (after the first answered 500): the route's cap, its own stop and defaults
      expect(second).toMatchObject({ model: 'second-model', max_tokens: 300, stop: ['T2'], seed: 2 });
      expect('temperature' in second!).toBe(false);
      // a route key no target names applies to both
      expect('user' in first! || 'user' in second!).toBe(false);
    });

    it('fills empty content', async () => {
      await client.chat.completions.create({
        model: 'filled',
        messages: [
          { role: 'system', content: '' },
          { role: 'user', content: 'q' },
          { role: 'assistant', content: '  ' },
          { role: 'user', content: [] as unknown as string },
        ],
      });
      expect((up.requests[0]!.body as { messages: unknown[] }).messages).toEqual([
        { role: 'system', content: '.' },
        { role: 'user', content: 'q' },
        { role: 'assistant', content: '.' },
        { role: 'user', content: '.' },
      ]);
    });
  });

  describe('response_prefix, seen at the client', () => {
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
      },
    ];

    it('prefixes the first assistant content of a non-stream reply', async () => {
      const res = await client.chat.completions.create({
        model: 'prefixed',
        messages: [{ role: 'user', content: 'hello' }],
      });
      expect(res.choices[0]?.message.content).toBe('PREFIX: Echo: hello');
    });

    it('streams: the role-only first chunk passes, the first content chunk carries the prefix', async () => {
      const stream = await client.chat.completions.create({
        model: 'prefixed',
        stream: true,
        messages: [{ role: 'user', content: 'hello' }],
      });
      const deltas: Array<{ role?: string; content?: string | null }> = [];
      for await (const c of stream) if (c.choices[0]) deltas.push(c.choices[0].delta);
      expect(deltas[0]).toMatchObject({ role: 'assistant', content: '' });
      const withText = deltas.filter((d) => typeof d.content === 'string' && d.content !== '');
      expect(withText[0]?.content?.startsWith('PREFIX: ')).toBe(true);
      expect(withText.filter((d) => d.content?.includes('PREFIX')).length).toBe(1);
      expect(deltas.map((d) => d.content ?? '').join('')).toBe('PREFIX: Echo: hello');
    });

    it('adds nothing to a reply without content (a tool call), streamed or not', async () => {
      const res = await client.chat.completions.create({
        model: 'prefixed',
        tools,
        messages: [{ role: 'user', content: 'weather in Oslo?' }],
      });
      expect(res.choices[0]?.message.content).toBeNull();
      expect(res.choices[0]?.message.tool_calls?.[0]).toMatchObject({
        type: 'function',
        function: { name: 'get_weather' },
      });
      const stream = await client.chat.completions.create({
        model: 'prefixed',
        stream: true,
        tools,
        messages: [{ role: 'user', content: 'weather in Oslo?' }],
      });
      let text = '';
      let args = '';
      for await (const c of stream) {
        text += c.choices[0]?.delta.content ?? '';
        args += c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '';
      }
      expect(text).toBe('');
      expect(JSON.parse(args)).toMatchObject({ city: 'Oslo' });
    });

    it('adds nothing to an empty reply', async () => {
      up.enqueue({ reply: '' });
      const res = await client.chat.completions.create({
        model: 'prefixed',
        messages: [{ role: 'user', content: 'say nothing' }],
      });
      expect(res.choices[0]?.message.content).toBe('');
    });

    it('streams: a tool call first, then content — the prefix goes on the content', async () => {
      // the scripted upstream read by the SDK itself: a tool call, then text
      const direct = new OpenAI({ baseURL: scripted.baseUrl, apiKey: 'k', maxRetries: 0 });
      const collect = async (s: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) => {
        let text = '';
        let args = '';
        let firstKind = '';
        for await (const c of s) {
          const d = c.choices[0]?.delta;
          if (!d) continue;
          if (!firstKind) firstKind = d.tool_calls ? 'tool_call' : 'other';
          text += d.content ?? '';
          args += d.tool_calls?.[0]?.function?.arguments ?? '';
        }
        return { text, args, firstKind };
      };
      const messages = [{ role: 'user' as const, content: 'look it up' }];
      const plain = await collect(
        await direct.chat.completions.create({ model: 'm', stream: true, messages }),
      );
      expect(plain).toEqual({ text: 'Looked it up.', args: '{"q":"x"}', firstKind: 'tool_call' });
      const viaGateway = await collect(
        await client.chat.completions.create({ model: 'prefixed-tool-first', stream: true, messages }),
      );
      expect(viaGateway).toEqual({
        text: 'PREFIX: Looked it up.',
        args: '{"q":"x"}',
        firstKind: 'tool_call',
      });
    });
  });

  describe('traces keep the request as received and as sent', () => {
    it('stores request and upstream_request side by side for a transformed call', async () => {
      const request = {
        model: 'shaped',
        max_tokens: 4000,
        stop: 'STOP',
        user: 'someone',
        messages: [
          { role: 'user' as const, content: 'first' },
          { role: 'user' as const, content: 'second' },
          { role: 'assistant' as const, content: '<think>hidden</think>visible' },
          { role: 'user' as const, content: 'third' },
        ],
      };
      const { response } = await client.chat.completions.create(request).withResponse();
      const id = response.headers.get('x-gateway-trace-id');
      expect(id).toBeTruthy();
      const sent = up.requests[0]!.body as Sent;
      const t = await traceOf(id!);
      expect(t.request).toEqual(request);
      expect(t.upstream_request).toEqual(sent);
      expect(t.upstream_request).toMatchObject({
        model: 'target-model',
        max_tokens: 50,
        stop: ['STOP', 'END'],
        temperature: 0.3,
        top_p: 0.9,
        messages: [
          { role: 'user', content: 'first\n\nsecond' },
          { role: 'assistant', content: 'visible' },
          { role: 'user', content: 'third' },
        ],
      });
      expect('user' in t.upstream_request).toBe(false);
    });
  });

  describe('image_to_text', () => {
    const ask = (image: ReturnType<typeof freshImage>, headers: Record<string, string> = {}) =>
      client.chat.completions
        .create(
          {
            model: 'blind',
            messages: [{ role: 'user', content: [{ type: 'text', text: 'what is it?' }, image] }],
          },
          { headers },
        )
        .withResponse();

    it('describes images for a text-only target with the vision model, once per image content', async () => {
      const before = await imageCacheCounts();
      const image = freshImage();
      const first = await ask(image);
      expect(first.data.choices[0]?.message.content).toContain('[Image description: Echo: Describe it.]');
      expect(visionCalls()).toHaveLength(1);
      const visionBody = visionCalls()[0]!.body as { messages: Array<{ content: unknown }> };
      expect(visionBody.messages[0]!.content).toEqual([
        { type: 'text', text: 'Describe it.' },
        { type: 'image_url', image_url: { url: image.image_url.url } },
      ]);
      // the same image content under another media type: served from the cache
      const again = { ...image, image_url: { url: image.image_url.url.replace('image/png', 'image/jpeg') } };
      const second = await ask(again);
      expect(visionCalls()).toHaveLength(1);
      expect(second.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
      const after = await imageCacheCounts();
      expect(after.miss - before.miss).toBe(1);
      expect(after.hit - before.hit).toBe(1);
      // what the text-only target received: the image replaced in place by its description
      const t = await traceOf(first.response.headers.get('x-gateway-trace-id')!);
      expect(t.request.messages[0].content[1]).toEqual(image);
      expect(t.upstream_request.messages[0].content).toEqual([
        { type: 'text', text: 'what is it?' },
        { type: 'text', text: '[Image description: Echo: Describe it.]' },
      ]);
    });

    it('leaves images alone for a target that has vision', async () => {
      const image = freshImage();
      const messages = [
        { role: 'user' as const, content: [{ type: 'text' as const, text: 'and this?' }, image] },
      ];
      await client.chat.completions.create({ model: 'sighted', messages });
      expect(visionCalls()).toHaveLength(0);
      expect(up.requests).toHaveLength(1);
      expect((up.requests[0]!.body as Sent).messages).toEqual(messages);
    });

    it('makes one vision call for two identical images in flight at once', async () => {
      const before = await imageCacheCounts();
      const image = freshImage();
      up.setModelBehavior('vision-model', { delayMs: 2500 });
      let answers: Awaited<ReturnType<typeof ask>>[];
      try {
        answers = await Promise.all([ask(image), ask(image)]);
      } finally {
        up.setModelBehavior('vision-model', null);
      }
      expect(visionCalls()).toHaveLength(1);
      for (const a of answers) {
        expect(a.data.choices[0]?.message.content).toContain('[Image description: Echo: Describe it.]');
      }
      // both calls were in the gateway before the one vision call ended (shared, not a later cache hit)
      const parents = await Promise.all(
        answers.map((a) => traceOf(a.response.headers.get('x-gateway-trace-id')!)),
      );
      const ids = new Set(parents.map((p: { id: string }) => p.id));
      const descriptions = await eventually('the description trace', async () => {
        const r = await api('/api/records?limit=100');
        const rows = (r.body?.data ?? []) as Array<{ metadata: { image_description_for?: string } | null }>;
        const found = rows.filter((t) => ids.has(t.metadata?.image_description_for ?? ''));
        return found.length > 0 ? (found as any[]) : undefined;
      });
      expect(descriptions).toHaveLength(1);
      const visionEnd = Date.parse(descriptions[0].created_at) + descriptions[0].latency_ms;
      for (const p of parents) expect(Date.parse(p.created_at)).toBeLessThan(visionEnd);
      const after = await imageCacheCounts();
      expect(after.miss - before.miss).toBe(1);
      expect(after.hit - before.hit).toBe(1);
    });

    it('a refused image fails the call with a 400 in OpenAI shape, and the failure is not cached', async () => {
      const image = freshImage();
      up.enqueue({
        status: 400,
        body: { error: { message: 'cannot see', type: 'invalid_request_error', param: null, code: null } },
      });
      const err = (await client.chat.completions
        .create({ model: 'blind', messages: [{ role: 'user', content: [image] }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err.status).toBe(400);
      expect(err.error).toEqual({
        message: 'Image description via model `vision` failed: cannot see',
        type: 'invalid_request_error',
        param: 'messages',
        code: 'image_description_failed',
      });
      // the same image again: described anew (one more vision call), and the call succeeds
      const ok = await ask(image);
      expect(visionCalls()).toHaveLength(2);
      expect(ok.data.choices[0]?.message.content).toContain('[Image description:');
    });

    it('an overloaded vision upstream fails the call with a 503, not a silent drop', async () => {
      up.enqueue({ status: 503 });
      const err = (await ask(freshImage()).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(err.status).toBe(503);
      expect(err.error).toMatchObject({ type: 'api_error', code: 'image_description_failed' });
      expect((err.error as { message: string }).message).toMatch(
        /^Image description via model `vision` failed: /,
      );
    });

    it('traces the description as its own call in the parent session (no X-Session-Id)', async () => {
      const { response } = await ask(freshImage());
      const parentId = response.headers.get('x-gateway-trace-id')!;
      const parent = await traceOf(parentId);
      const description = await descriptionOf(parentId);
      expect(description.id).not.toBe(parentId);
      expect(description.model).toBe('vision');
      expect(description.upstream_model).toBe('vision-model');
      expect(description.session_id).toBe(parent.session_id);
      expect(parent.turn).toBe(1);
      expect(description.turn).toBe(2);
      const session = await api(`/api/sessions/${encodeURIComponent(parent.session_id)}/records`);
      expect(session.body.data.map((t: { id: string }) => t.id)).toEqual([parentId, description.id]);
    });

    it('traces the description in the parent session given by X-Session-Id', async () => {
      const sessionId = `transforms-e2e-${process.pid}-${Date.now()}`;
      const { response } = await ask(freshImage(), { 'X-Session-Id': sessionId });
      const parentId = response.headers.get('x-gateway-trace-id')!;
      const parent = await traceOf(parentId);
      const description = await descriptionOf(parentId);
      expect(parent.session_id).toBe(sessionId);
      expect(description.session_id).toBe(sessionId);
      expect(description.turn).toBe(parent.turn + 1);
    });
  });
});

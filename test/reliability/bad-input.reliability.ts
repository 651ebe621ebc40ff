/**
 * Bad input (SPEC §3: "a bad request never crashes the process or stops others"): thousands of
 * generated malformed bodies (wrong types, deep nesting, huge strings, invalid UTF-8, truncated
 * JSON), oversized bodies and bad headers, sent as raw bytes to a gateway process while valid
 * calls run beside them through the openai SDK. Every bad one gets a 4xx in OpenAI's error shape.
 */
import { request } from 'node:http';
import OpenAI from 'openai';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';
import { spawnGateway, type GatewayProcess } from '../support/spawn-gateway';
import { pool, scale } from './scale';

const BODY_LIMIT_MB = 1;
const ENDPOINTS = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const;

interface RawReply {
  status: number;
  body: string;
  /** The connection failed instead of answering (counted, never expected). */
  failed?: string;
}

interface BadRequest {
  kind: string;
  path: string;
  body: Buffer;
  headers?: Record<string, string>;
  /** Send without content-length (chunked). */
  chunked?: boolean;
}

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed: number): (i: number) => BadRequest {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
  const wrongValues: unknown[] = [1, -1, 0.5, true, false, null, 'text', [], [1, 2], {}, { a: 1 }, ''];
  const user = [{ role: 'user', content: 'hello' }];

  const wrongTypes = (): BadRequest => {
    const path = pick(ENDPOINTS);
    // null and [] are valid for optional fields and content, so they become an object here.
    const raw = pick(wrongValues);
    const v = raw === null || (Array.isArray(raw) && raw.length === 0) ? { wrong: true } : raw;
    const variants: Array<() => unknown> = [
      () => raw, // the body itself is not an object (or an empty one)
      () => ({ model: typeof v === 'string' && v !== '' ? 1 : v, messages: user, prompt: 'x', input: 'x' }),
      () => ({ messages: user, prompt: 'x', input: 'x' }),
      () => ({
        model: 'ok-model',
        stream: typeof v === 'boolean' ? 'yes' : v,
        messages: user,
        prompt: 'x',
        input: 'x',
      }),
    ];
    if (path === '/v1/chat/completions') {
      variants.push(
        () => ({ model: 'ok-model', messages: Array.isArray(v) && v.length === 0 ? 'hi' : v }),
        () => ({ model: 'ok-model', messages: [v === null || typeof v !== 'object' ? v : 7] }),
        () => ({ model: 'ok-model', messages: [{ role: typeof v === 'string' ? 3 : v, content: 'x' }] }),
        () => ({
          model: 'ok-model',
          messages: user,
          stream_options: typeof v === 'object' && !Array.isArray(v) && v !== null ? 'x' : v,
        }),
        () => ({ model: 'ok-model', messages: [{ role: 'user', content: typeof v === 'string' ? 42 : v }] }),
        () => ({ model: 'ok-model', messages: user, max_tokens: typeof v === 'number' ? 'many' : v }),
        () => ({ model: 'ok-model', messages: user, temperature: typeof v === 'number' ? 'hot' : v }),
        () => ({
          model: 'ok-model',
          messages: user,
          tools: typeof v === 'object' && v !== null ? 'none' : v,
        }),
        () => ({ model: 'ok-model', messages: user, n: typeof v === 'number' ? 'two' : v }),
      );
    } else if (path === '/v1/completions') {
      variants.push(() => ({ model: 'ok-model' }));
    } else {
      variants.push(
        () => ({ model: 'ok-model' }),
        () => ({ model: 'ok-model', input: null }),
      );
    }
    return { kind: 'wrong-types', path, body: json(pick(variants)()) };
  };

  const deepNesting = (): BadRequest => {
    const depth = 1000 + Math.floor(r() * 200_000);
    const open = pick(['[', '{"a":']);
    const close = open === '[' ? ']' : '}';
    const nested = open.repeat(depth) + '1' + close.repeat(depth);
    const where = pick(['body', 'content', 'model', 'messages']);
    const text =
      where === 'body'
        ? nested
        : where === 'content'
          ? `{"model":"ok-model","messages":[{"role":"user","content":${nested}}]}`
          : where === 'model'
            ? `{"model":${nested},"messages":[{"role":"user","content":"x"}]}`
            : `{"model":"ok-model","messages":${nested}}`;
    return { kind: 'deep-nesting', path: '/v1/chat/completions', body: Buffer.from(text) };
  };

  const hugeStrings = (): BadRequest => {
    const size = 10_000 + Math.floor(r() * 600_000);
    const big = 'x'.repeat(size);
    const v = pick([
      { model: big, messages: user },
      { model: 'ok-model', messages: big },
      { model: 'ok-model', messages: user, max_tokens: big },
      { model: 'ok-model', messages: user, stream: big },
      { model: big, prompt: 'x' },
    ]);
    return { kind: 'huge-strings', path: '/v1/chat/completions', body: json(v) };
  };

  const invalidUtf8 = (): BadRequest => {
    const junk = Buffer.from(
      Array.from({ length: 1 + Math.floor(r() * 40) }, () => 0x80 + Math.floor(r() * 0x80)),
    );
    const shape = pick(['model', 'bare', 'key']);
    const parts =
      shape === 'model'
        ? [Buffer.from('{"model":"'), junk, Buffer.from('","messages":[{"role":"user","content":"x"}]}')]
        : shape === 'key'
          ? [Buffer.from('{"'), junk, Buffer.from('":1}')]
          : [junk];
    return { kind: 'invalid-utf8', path: pick(ENDPOINTS), body: Buffer.concat(parts) };
  };

  const truncated = (): BadRequest => {
    const full = JSON.stringify({
      model: 'ok-model',
      messages: [
        { role: 'system', content: 'you are terse' },
        { role: 'user', content: 'a message that is long enough to be cut in many places' },
      ],
      stream: r() < 0.5,
      temperature: 0.2,
    });
    const cut = 1 + Math.floor(r() * (full.length - 2));
    return { kind: 'truncated-json', path: '/v1/chat/completions', body: Buffer.from(full.slice(0, cut)) };
  };

  const badHeaders = (): BadRequest => {
    const body = json({ model: 'ok-model', messages: user });
    const variant = pick([
      { 'x-session-id': 's'.repeat(201) },
      { 'x-trace-metadata': '{not json' },
      { 'x-trace-metadata': '[1,2]' },
      { authorization: `Bearer sk-gw-${'Q'.repeat(40)}` },
      { 'x-api-key': `sk-gw-${'W'.repeat(36)}` },
      { 'api-key': 'sk-gw-short' },
    ]);
    return { kind: 'bad-headers', path: '/v1/chat/completions', body, headers: variant };
  };

  const kinds = [
    wrongTypes,
    wrongTypes,
    deepNesting,
    hugeStrings,
    invalidUtf8,
    truncated,
    truncated,
    badHeaders,
  ];
  return (i) => (kinds[i % kinds.length] as () => BadRequest)();
}

function send(base: URL, bad: BadRequest): Promise<RawReply> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...bad.headers };
    if (!bad.chunked) headers['content-length'] = String(bad.body.length);
    const req = request(
      { host: base.hostname, port: base.port, method: 'POST', path: bad.path, headers, timeout: 60_000 },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }),
        );
        res.on('error', (e) => resolve({ status: res.statusCode ?? 0, body: '', failed: e.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: '', failed: e.message }));
    if (bad.chunked) {
      // Written in pieces so the gateway has to count as it reads.
      const step = 256 * 1024;
      for (let o = 0; o < bad.body.length; o += step) req.write(bad.body.subarray(o, o + step));
      req.end();
    } else req.end(bad.body);
  });
}

/** What is wrong with a reply, or null when it is a 4xx in OpenAI's error shape. */
function problem(reply: RawReply): string | null {
  if (reply.failed) return `connection: ${reply.failed}`;
  if (reply.status < 400 || reply.status > 499) return `status ${reply.status}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body);
  } catch {
    return `body not JSON: ${reply.body.slice(0, 120)}`;
  }
  const e = (parsed as { error?: Record<string, unknown> } | null)?.error;
  if (
    !e ||
    typeof e.message !== 'string' ||
    typeof e.type !== 'string' ||
    !('param' in e) ||
    !('code' in e)
  ) {
    return `not OpenAI-shaped: ${reply.body.slice(0, 120)}`;
  }
  return null;
}

describe('bad input', () => {
  let upstream: MockOpenAI;
  let gw: GatewayProcess;

  beforeAll(async () => {
    upstream = await startMockOpenAI();
    gw = await spawnGateway({
      config: `
server:
  body_limit_mb: ${BODY_LIMIT_MB}
providers:
  up: { type: openai, base_url: "${upstream.baseUrl}", api_key: sk-upstream-secret }
routes:
  - match: { exact: ok-model }
    targets: [ { provider: up } ]
`,
      env: { LOG_LEVEL: 'warn' },
    });
  }, 120_000);

  afterAll(async () => {
    expect(await gw.stop('SIGTERM')).toBe(0);
    gw.cleanup();
    await upstream.close();
  }, 90_000);

  it(`${scale(2000, 10_000)} generated malformed bodies: each a 4xx in OpenAI's shape, valid calls keep succeeding`, async () => {
    const total = scale(2000, 10_000);
    const make = generator(20261201);
    const base = new URL(gw.url);
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'caller', maxRetries: 0, timeout: 60_000 });
    let running = true;
    let good = 0;
    const goodFailures: string[] = [];
    const valid = (async () => {
      while (running) {
        try {
          const r = await client.chat.completions.create({
            model: 'ok-model',
            messages: [{ role: 'user', content: `ok ${good}` }],
          });
          if (r.choices[0]?.message.content === `Echo: ok ${good}`) good++;
          else goodFailures.push(`unexpected reply ${JSON.stringify(r.choices[0])}`);
        } catch (err) {
          goodFailures.push(String(err));
        }
      }
    })();
    const byKind = new Map<string, number>();
    const problems: string[] = [];
    await pool(Array.from({ length: total }), 16, async (_, i) => {
      const bad = make(i);
      byKind.set(bad.kind, (byKind.get(bad.kind) ?? 0) + 1);
      const p = problem(await send(base, bad));
      if (p && problems.length < 20) {
        problems.push(`#${i} ${bad.kind} ${bad.path} ${bad.body.subarray(0, 100).toString('latin1')}: ${p}`);
      } else if (p) problems.push('');
    });
    running = false;
    await valid;
    expect(problems).toEqual([]);
    expect(goodFailures).toEqual([]);
    expect(good).toBeGreaterThan(0);
    expect([...byKind.keys()].sort()).toEqual(
      ['bad-headers', 'deep-nesting', 'huge-strings', 'invalid-utf8', 'truncated-json', 'wrong-types'].sort(),
    );
    // Never crashed, never restarted.
    expect(gw.child.exitCode).toBeNull();
    expect(gw.stderr()).not.toMatch(/FATAL|Maximum call stack|Unhandled/i);
    console.log(
      `bad input: ${total} malformed bodies, ${good} valid calls beside them`,
      Object.fromEntries(byKind),
    );
  }, 600_000);

  it('oversized bodies get 413 (with and without content-length), on every endpoint', async () => {
    const base = new URL(gw.url);
    const big = Buffer.from(
      JSON.stringify({
        model: 'ok-model',
        messages: [{ role: 'user', content: 'y'.repeat(BODY_LIMIT_MB * 1024 * 1024 + 10) }],
      }),
    );
    for (const path of ENDPOINTS) {
      for (const chunked of [false, true]) {
        const reply = await send(base, { kind: 'oversized', path, body: big, chunked });
        expect({ path, chunked, problem: problem(reply) }).toEqual({ path, chunked, problem: null });
        expect(reply.status).toBe(413);
      }
    }
  }, 120_000);

  it('bad HTTP framing and headers are answered in OpenAI shape too', async () => {
    const base = new URL(gw.url);
    const cases: Array<{ name: string; headers: Record<string, string> }> = [
      { name: 'huge header', headers: { 'x-filler': 'z'.repeat(20_000) } },
      { name: 'bad content-length', headers: { 'content-length': 'abc' } },
      { name: 'two content-lengths', headers: { 'content-length': '2, 3' } },
      { name: 'bad transfer-encoding', headers: { 'transfer-encoding': 'gzip, chunked, identity' } },
    ];
    for (const c of cases) {
      const reply = await new Promise<RawReply>((resolve) => {
        const req = request(
          {
            host: base.hostname,
            port: base.port,
            method: 'POST',
            path: '/v1/chat/completions',
            headers: c.headers,
          },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }),
            );
          },
        );
        req.on('error', (e) => resolve({ status: 0, body: '', failed: e.message }));
        req.end('{}');
      });
      expect({ name: c.name, problem: problem(reply) }).toEqual({ name: c.name, problem: null });
    }
    expect(gw.child.exitCode).toBeNull();
  }, 60_000);
});

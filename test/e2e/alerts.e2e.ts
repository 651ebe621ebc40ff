/**
 * Alerts (SPEC §7): `alerts:` rules on error rate and p95 latency over a rolling window → one
 * warning log line and, when set, one JSON POST to the webhook per crossing, re-armed when the
 * value falls back. Calls come from the openai SDK through the gateway to an OpenAI mock that
 * fails on demand; the webhook is a local node:http receiver on port 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, type Harness } from '../support/gateway-harness';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';

interface Posted {
  path: string;
  contentType: string;
  body: Record<string, unknown>;
}

async function startWebhook(): Promise<{ url: string; posts: Posted[]; close(): Promise<void> }> {
  const posts: Posted[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      posts.push({
        path: req.url ?? '',
        contentType: String(req.headers['content-type'] ?? ''),
        body: JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface LogLine {
  level: number;
  msg: string;
  alert?: string;
  [k: string]: unknown;
}

const WINDOW_S = 4;
const HOOK_TOKEN = 'T0KEN-in-the-webhook-path-4f9a';

describe('alerts', () => {
  let upstream: MockOpenAI;
  let hook: Awaited<ReturnType<typeof startWebhook>>;
  let gw: Harness;
  let client: OpenAI;

  const config = (webhook: string, errorAbove = 0.5): string => `
providers:
  up: { type: openai, base_url: "${upstream.baseUrl}", api_key: sk-up-alerts }
routes:
  - match: { exact: ok }
    targets: [ { provider: up, model: ok-up } ]
  - match: { exact: bad }
    targets: [ { provider: up, model: bad-up } ]
  - match: { exact: slow }
    targets: [ { provider: up, model: slow-up } ]
alerts:
  - { name: errors-high, when: error_rate, above: ${errorAbove}, window_s: ${WINDOW_S}, webhook: "${webhook}" }
  - { name: slow-calls, when: p95_latency_ms, above: 400, window_s: ${WINDOW_S} }
`;

  const logs = (): LogLine[] =>
    gw.logs.flatMap((chunk) =>
      chunk
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as LogLine),
    );
  const warnings = (alert: string): LogLine[] =>
    logs().filter((l) => l.level === 40 && l.alert === alert && l.msg.startsWith(`alert ${alert}:`));

  const ok = (n: number): Promise<unknown> =>
    Promise.all(
      Array.from({ length: n }, () =>
        client.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'fine' }] }),
      ),
    );
  const bad = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await expect(
        client.chat.completions.create({ model: 'bad', messages: [{ role: 'user', content: 'fail' }] }),
      ).rejects.toBeInstanceOf(OpenAI.APIError);
    }
  };
  /** Until the window has emptied and the evaluator has seen it (re-armed). */
  const windowPasses = (): Promise<void> => sleep(WINDOW_S * 1000 + 1500);

  beforeAll(async () => {
    upstream = await startMockOpenAI({
      byModel: { 'bad-up': { status: 500 }, 'slow-up': { delayMs: 700 } },
    });
    hook = await startWebhook();
    gw = await startGateway(config(`${hook.url}/hooks/${HOOK_TOKEN}`));
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 });
  }, 60_000);

  afterAll(async () => {
    await gw.close();
    await Promise.all([upstream.close(), hook.close()]);
  });

  it('stays quiet below the threshold', async () => {
    await ok(4);
    await bad(1); // 1 of 5 = 0.2
    await sleep(2500);
    expect(hook.posts).toHaveLength(0);
    expect(warnings('errors-high')).toHaveLength(0);
  }, 30_000);

  it('fires once per crossing: one warning and one JSON POST, then re-arms below', async () => {
    await bad(6); // 7 of 11 ≈ 0.64
    await until('the webhook post', () => hook.posts.length === 1);
    const post = hook.posts[0] as Posted;
    expect(post.path).toBe(`/hooks/${HOOK_TOKEN}`);
    expect(post.contentType).toContain('application/json');
    expect(post.body).toMatchObject({
      alert: 'errors-high',
      when: 'error_rate',
      above: 0.5,
      window_s: WINDOW_S,
      state: 'firing',
    });
    expect(post.body.value as number).toBeGreaterThan(0.5);
    expect(post.body.calls as number).toBeGreaterThanOrEqual(6);
    expect(typeof post.body.text).toBe('string');
    expect(warnings('errors-high')).toHaveLength(1);

    // Still above: no second post, no second line.
    await bad(3);
    await sleep(2500);
    expect(hook.posts).toHaveLength(1);
    expect(warnings('errors-high')).toHaveLength(1);

    // The window empties: the rule re-arms (logged), and the next crossing posts again.
    await windowPasses();
    expect(logs().some((l) => l.alert === 'errors-high' && l.msg.includes('resolved'))).toBe(true);
    await ok(1);
    await bad(3);
    await until('the second webhook post', () => hook.posts.length === 2);
    expect(warnings('errors-high')).toHaveLength(2);
    // Neither the token in the webhook path nor the path itself is logged.
    expect(gw.logs.join('')).not.toContain(HOOK_TOKEN);
  }, 90_000);

  it('p95 latency: a warning line without webhook', async () => {
    await windowPasses();
    await ok(2);
    await Promise.all(
      [1, 2, 3].map(() =>
        client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'zzz' }] }),
      ),
    );
    await until('the latency warning', () => warnings('slow-calls').length === 1);
    const line = warnings('slow-calls')[0] as LogLine;
    expect(line).toMatchObject({ when: 'p95_latency_ms', above: 400, window_s: WINDOW_S });
    expect(line.value as number).toBeGreaterThan(400);
    expect(hook.posts.filter((p) => p.body.alert === 'slow-calls')).toHaveLength(0);
  }, 60_000);

  it('follows live config reloads; a webhook that cannot be reached is logged, calls go on', async () => {
    await windowPasses();
    const posted = hook.posts.length;
    // New threshold and a webhook on a closed port.
    gw.writeConfig(config('http://127.0.0.1:9/hooks/unreachable', 0.2));
    await until('the reload', () => logs().some((l) => l.msg === 'config reloaded'));
    await ok(3);
    await bad(1); // 1 of 4 = 0.25: above 0.2 only under the new rule
    await until('the new rule to fire', () => warnings('errors-high').length === 3);
    await until('the webhook failure line', () =>
      logs().some((l) => l.alert === 'errors-high' && l.msg === 'alert webhook could not be reached'),
    );
    const failure = logs().find((l) => l.msg === 'alert webhook could not be reached') as LogLine;
    expect(failure.webhook).toBe('http://127.0.0.1:9');
    expect(hook.posts).toHaveLength(posted);
    const res = await client.chat.completions.create({
      model: 'ok',
      messages: [{ role: 'user', content: 'still here' }],
    });
    expect(res.choices[0]?.message.content).toContain('still here');
  }, 60_000);
});

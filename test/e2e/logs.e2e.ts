/**
 * Logs (SPEC §7): structured pino JSON, credentials redacted. The gateway runs as its own
 * process at LOG_LEVEL=debug; calls carry an upstream key, client keys (valid and not), the
 * master key (right and wrong), OTLP export headers; upstreams echo the request headers back in
 * their error messages, in plain and base64 form; a config edit with a YAML error sits on the
 * line holding a key. Then every line the process wrote (stdout and stderr) is searched for each
 * secret, its base64 forms and a part of it: none may appear. /metrics is read along the way
 * and must move with the calls.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { adminCall } from '../support/admin-client';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';
import { spawnGateway, type GatewayProcess } from '../support/spawn-gateway';

const UPSTREAM_KEY = 'sk-upstream-logs-Q1w2E3r4T5y6U7i8O9p0';
const UPSTREAM_KEY_2 = 'sk-upstream-rotated-Zx9Cv8Bn7Ml6Kj5Hg4';
const HEADER_SECRET = 'hdr-secret-7c1f0e2d9b8a6f5e4d3c';
const OTLP_TOKEN = 'otlp-bearer-5a4b3c2d1e0f9a8b';
const MASTER = 'mk-logs-test-8d7c6b5a4f3e2d1c0b9a';
const WRONG_MASTER = 'mk-wrong-1a2b3c4d5e6f7a8b9c0d';
const INVALID_CLIENT_KEY = 'sk-gw-' + 'N0tAReAlKeyButLooksLikeOne1234567890abcd';

/** An upstream whose every error echoes the request headers it received, several ways. */
async function startEchoingUpstream(): Promise<{
  baseUrl: string;
  seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(req.headers);
      const auth = String(req.headers.authorization ?? '');
      const token = auth.replace(/^Bearer\s+/i, '');
      const b64 = Buffer.from(token).toString('base64');
      const path = req.url ?? '';
      if (path.includes('text')) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`bad gateway; you sent authorization: ${auth}; x-extra: ${String(req.headers['x-extra'])}`);
        return;
      }
      const status = path.includes('retry') ? 500 : 401;
      const body = JSON.stringify({
        error: {
          message: `Incorrect API key provided: ${token} (fingerprint ${b64}); headers were ${JSON.stringify(req.headers)}`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
      res.writeHead(status, { 'content-type': 'application/json', 'x-echo-authorization': auth });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Each secret, its base64 forms (standard and URL alphabets, unpadded) and a middle part. */
function formsOf(secret: string): string[] {
  const b64 = Buffer.from(secret).toString('base64').replace(/=+$/, '');
  const inBasic = Buffer.from(`user:${secret}`).toString('base64').replace(/=+$/, '');
  return [
    secret,
    b64.slice(0, -2),
    b64.replace(/\+/g, '-').replace(/\//g, '_').slice(0, -2),
    // base64("user:<secret>") shifts the alignment: its middle depends on the secret alone.
    inBasic.slice(8, -4),
    secret.slice(6, 22),
  ];
}

function metric(text: string, line: RegExp): number {
  const m = line.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('logs carry no credentials (LOG_LEVEL=debug)', () => {
  let good: MockOpenAI;
  let echo: Awaited<ReturnType<typeof startEchoingUpstream>>;
  let gw: GatewayProcess;
  let clientKey = '';
  let configPath = '';

  const config = (upstreamKey: string, broken = false): string => `
auth:
  require_client_key: true
providers:
  good: { type: openai, base_url: "${good.baseUrl}", api_key: "${upstreamKey}", headers: { x-extra-auth-token: "${HEADER_SECRET}" } }
  echo: { type: openai, base_url: "${echo.baseUrl}/v1", api_key: "${upstreamKey}", headers: { x-extra: "${HEADER_SECRET}", x-api-key: "${HEADER_SECRET}" } }
  echo2: { type: openai, base_url: "${echo.baseUrl}/v1/retry", api_key: "${upstreamKey}" }
  echotext: { type: openai, base_url: "${echo.baseUrl}/v1/text", api_key: "${upstreamKey}", headers: { x-extra: "${HEADER_SECRET}" } }
routes:
  - match: { exact: ok }
    targets: [ { provider: good, model: up-ok } ]
  - match: { exact: slow }
    targets: [ { provider: good, model: slow-up } ]
  - match: { exact: refused }
    targets: [ { provider: echo } ]
  - match: { exact: retried }
    targets: [ { provider: echo2, priority: 0 }, { provider: echotext, priority: 1 } ]
    fallback: [ ok ]
  - match: { exact: text }
    targets: [ { provider: echotext } ]
${broken ? `  - match: { exact: broken } targets: [ { provider: good, api_key: "${upstreamKey}" }\n` : ''}`;

  beforeAll(async () => {
    good = await startMockOpenAI({ byModel: { 'slow-up': { chunkDelayMs: 150 } } });
    echo = await startEchoingUpstream();
    gw = await spawnGateway({
      config: config(UPSTREAM_KEY),
      env: {
        LOG_LEVEL: 'debug',
        GATEWAY_MASTER_KEY: MASTER,
        // Spans go nowhere (closed port): the failure is logged, the export headers must not be.
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${OTLP_TOKEN}`,
      },
    });
    configPath = `${gw.dir}/gateway.yaml`;
    const created = await adminCall<{ id: string; key: string }>(gw.url, MASTER, 'POST', '/admin/keys', {
      name: 'logs',
    });
    expect(created.status).toBe(201);
    clientKey = created.body.key;
  }, 120_000);

  afterAll(async () => {
    await gw.stop('SIGKILL');
    gw.cleanup();
    await Promise.all([good.close(), echo.close()]);
  });

  it('runs calls that carry every kind of credential, with /metrics moving', async () => {
    const before = await (await fetch(`${gw.url}/metrics`)).text();
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: clientKey, maxRetries: 0 });

    // A valid client key: success, plain and streamed.
    const ok = await client.chat.completions.create({
      model: 'ok',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(ok.choices[0]?.message.content).toContain('hi');

    // A slow stream: /metrics shows it in flight.
    const stream = await client.chat.completions.create({
      model: 'slow',
      stream: true,
      messages: [{ role: 'user', content: 'one two three four' }],
    });
    let during = '';
    let text = '';
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      if (during === '') during = await (await fetch(`${gw.url}/metrics`)).text();
    }
    expect(text).toContain('one two three four');
    expect(metric(during, /^gateway_active_streams (\d+)/m)).toBeGreaterThanOrEqual(1);

    // The client key in the other two headers.
    for (const header of ['x-api-key', 'api-key']) {
      const res = await fetch(`${gw.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [header]: clientKey },
        body: JSON.stringify({ model: 'ok', messages: [{ role: 'user', content: 'by header' }] }),
      });
      expect(res.status).toBe(200);
    }

    // Invalid client key, the master key used as a client key, no key at all: 401.
    for (const apiKey of [INVALID_CLIENT_KEY, MASTER, WRONG_MASTER]) {
      const bad = new OpenAI({ baseURL: gw.baseURL, apiKey, maxRetries: 0 });
      await expect(
        bad.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    }

    // Upstream refuses and echoes the headers (401, not retried).
    await expect(
      client.chat.completions.create({ model: 'refused', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.APIError);
    // Upstream 500 echoing headers, then a text 502 echoing them, then the fallback model answers.
    const fell = await client.chat.completions.create({
      model: 'retried',
      messages: [{ role: 'user', content: 'after fallback' }],
    });
    expect(fell.choices[0]?.message.content).toContain('after fallback');
    await expect(
      client.chat.completions.create({ model: 'text', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(echo.seen.some((h) => h.authorization === `Bearer ${UPSTREAM_KEY}`)).toBe(true);

    // Admin calls: the master key, a wrong one, a bearer of the client key.
    expect((await adminCall(gw.url, MASTER, 'GET', '/admin/keys')).status).toBe(200);
    expect((await adminCall(gw.url, WRONG_MASTER, 'GET', '/admin/keys')).status).toBe(401);
    expect(
      (await adminCall(gw.url, MASTER, 'GET', '/api/records', undefined, `Bearer ${clientKey}`)).status,
    ).toBe(401);
    expect((await adminCall(gw.url, MASTER, 'GET', '/api/records?limit=5')).status).toBe(200);

    const after = await (await fetch(`${gw.url}/metrics`)).text();
    const delta = (re: RegExp): number => metric(after, re) - metric(before, re);
    expect(delta(/^gateway_requests_total\{model="ok",provider="good",status="success"\} (\d+)/m)).toBe(3);
    expect(delta(/^gateway_requests_total\{model="refused",provider="echo",status="error"\} (\d+)/m)).toBe(1);
    expect(delta(/^gateway_upstream_errors_total\{provider="echo2",code="500"\} (\d+)/m)).toBe(1);
    expect(
      delta(/^gateway_upstream_errors_total\{provider="echotext",code="502"\} (\d+)/m),
    ).toBeGreaterThanOrEqual(1);
    expect(delta(/^gateway_fallbacks_total (\d+)/m)).toBe(1);
    expect(delta(/^gateway_request_duration_seconds_count (\d+)/m)).toBeGreaterThanOrEqual(9);
    expect(delta(/^gateway_ttft_seconds_count (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(delta(/^gateway_tokens_total\{type="completion"\} (\d+)/m)).toBeGreaterThan(0);
    expect(metric(after, /^gateway_active_streams (\d+)/m)).toBe(0);
  }, 120_000);

  it('scrubs keys after a live reload and in a refused config edit', async () => {
    // Rotate the upstream key in the config: the new key is known to the scrubber once loaded.
    writeFileSync(configPath, config(UPSTREAM_KEY_2));
    const deadline = Date.now() + 20_000;
    while (!echo.seen.some((h) => h.authorization === `Bearer ${UPSTREAM_KEY_2}`) && Date.now() < deadline) {
      const client = new OpenAI({ baseURL: gw.baseURL, apiKey: clientKey, maxRetries: 0 });
      await client.chat.completions
        .create({ model: 'refused', messages: [{ role: 'user', content: 'x' }] })
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(echo.seen.some((h) => h.authorization === `Bearer ${UPSTREAM_KEY_2}`)).toBe(true);
    // A YAML error on the line holding the key: the parser quotes that line in its message.
    writeFileSync(configPath, config(UPSTREAM_KEY_2, true));
    const until = Date.now() + 20_000;
    while (!gw.stdout().includes('config edit refused') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    expect(gw.stdout()).toContain('config edit refused');
  }, 60_000);

  it('every line is JSON and none holds a secret in any form', async () => {
    expect(await gw.stop('SIGTERM')).toBe(0);
    const out = gw.stdout();
    const err = gw.stderr();
    const lines = out.split('\n').filter((l) => l.trim() !== '');
    const parsed = lines.map((l) => JSON.parse(l) as { level: number; msg: string; [k: string]: unknown });
    for (const p of parsed) {
      expect(typeof p.level).toBe('number');
      expect(typeof p.msg).toBe('string');
    }
    const everything = out + err;
    const secrets = {
      UPSTREAM_KEY,
      UPSTREAM_KEY_2,
      HEADER_SECRET,
      OTLP_TOKEN,
      MASTER,
      WRONG_MASTER,
      INVALID_CLIENT_KEY,
      clientKey,
    };
    const found: string[] = [];
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret.length).toBeGreaterThan(20);
      for (const form of formsOf(secret)) if (everything.includes(form)) found.push(`${name}: ${form}`);
    }
    expect(found).toEqual([]);
    // The logs are not empty: a debug line per call, the refused edit, the export failure.
    const calls = parsed.filter((p) => p.msg === 'call finished');
    expect(calls.length).toBeGreaterThanOrEqual(10);
    const refused = calls.find((p) => p.model === 'refused');
    expect(String(refused?.error)).toContain('Incorrect API key provided: [redacted]');
    expect(parsed.some((p) => p.msg === 'config edit refused; the running config stays')).toBe(true);
    expect(parsed.some((p) => p.msg.startsWith('OpenTelemetry export failed'))).toBe(true);
  }, 120_000);
});

/**
 * Security (SPEC §3, §4, §5): every admin and trace route — enumerated from Nest's own route
 * metadata, not from a list typed here — refuses a missing key, a wrong master key and a client
 * key (ingest alone takes client keys, by contract); CORS is closed by default; no credential
 * reaches the logs, the stored traces or an error body.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import OpenAI from 'openai';
import { adminCall, createKey, eventually } from '../support/admin-client';
import { startGateway, type Harness } from '../support/gateway-harness';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';
import { spawnGateway, type GatewayProcess } from '../support/spawn-gateway';

interface Route {
  method: string;
  path: string;
}

const joinPath = (...parts: string[]): string =>
  '/' +
  parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '')
    .join('/');

/** Every route the Nest controllers declare (method + full path). */
function nestRoutes(h: Harness): Route[] {
  const routes: Route[] = [];
  const modules = h.running.app.get(ModulesContainer);
  for (const mod of modules.values()) {
    for (const wrapper of mod.controllers.values()) {
      const type = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
      if (!type) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, type) ?? '');
      const proto = type.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (path === undefined || method === undefined) continue;
        for (const p of Array.isArray(path) ? path : [path]) {
          routes.push({ method: RequestMethod[method], path: joinPath(base, p) });
        }
      }
    }
  }
  return routes;
}

const CONFIG = `
providers:
  mock: { type: mock }
routes:
  - match: { any: true }
    targets: [ { provider: mock } ]
`;

describe('admin and trace routes refuse anyone without the master key', () => {
  let gw: Harness;
  let routes: Route[];
  let clientKey: string;

  beforeAll(async () => {
    gw = await startGateway(CONFIG);
    routes = nestRoutes(gw).filter((r) => /^\/(admin|api)(\/|$)/.test(r.path));
    clientKey = (await createKey(gw.url, 'test-master-key-0123456789abcdef', { name: 'not-admin' })).key;
  });
  afterAll(() => gw.close());

  it('finds every admin and trace route of the controllers', () => {
    const seen = routes.map((r) => `${r.method} ${r.path}`);
    // The enumeration itself must work: these are the contract's routes (SPEC §4, §5).
    expect(seen).toEqual(
      expect.arrayContaining([
        'POST /admin/keys',
        'GET /admin/keys',
        'GET /admin/keys/:id',
        'PATCH /admin/keys/:id',
        'POST /admin/keys/:id/rotate',
        'DELETE /admin/keys/:id',
        'GET /api/records',
        'GET /api/records/export',
        'GET /api/records/:id',
        'DELETE /api/records/:id',
        'POST /api/records/:id/replay',
        'GET /api/sessions',
        'GET /api/sessions/:id/records',
        'POST /api/traces',
        'GET /api/stats',
      ]),
    );
  });

  const credentials: Array<[string, () => string | null]> = [
    ['no key', () => null],
    ['a wrong master key', () => 'Bearer test-master-key-0123456789abcdeX'],
    ['an empty bearer', () => 'Bearer '],
    [
      'a basic auth header',
      () => `Basic ${Buffer.from('admin:test-master-key-0123456789abcdef').toString('base64')}`,
    ],
    ['a client key', () => `Bearer ${clientKey}`],
  ];

  it.each(credentials)('every route refuses %s with 401 in OpenAI shape', async (what, auth) => {
    const failures: string[] = [];
    for (const r of routes) {
      // Ingest takes client keys by contract (SPEC §5); it still refuses everything else.
      if (what === 'a client key' && r.method === 'POST' && r.path === '/api/traces') continue;
      const path = r.path.replace(/:id/g, 'key_0000000000000000');
      const res = await adminCall<{ error?: { message?: unknown; type?: unknown; code?: unknown } }>(
        gw.url,
        '',
        r.method,
        path,
        ['POST', 'PATCH', 'PUT'].includes(r.method) ? {} : undefined,
        auth(),
      );
      const shaped =
        typeof res.body?.error?.message === 'string' && res.body.error.code === 'invalid_api_key';
      if (res.status !== 401 || !shaped)
        failures.push(`${r.method} ${r.path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(failures).toEqual([]);
  });

  it('ingest refuses an unknown client key', async () => {
    const res = await adminCall(
      gw.url,
      '',
      'POST',
      '/api/traces',
      { request: {}, status: 'success' },
      `Bearer sk-gw-${'A'.repeat(40)}`,
    );
    expect(res.status).toBe(401);
  });

  it('CORS is closed by default: no Access-Control-Allow-Origin for a foreign origin, preflight refused', async () => {
    const origin = 'https://evil.example';
    for (const path of ['/v1/chat/completions', '/admin/keys', '/api/records', '/health', '/ui/']) {
      const pre = await fetch(gw.url + path, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
      expect({ path, allow: pre.headers.get('access-control-allow-origin') }).toEqual({ path, allow: null });
      expect(pre.headers.get('access-control-allow-headers')).toBeNull();
      expect(pre.status).toBeGreaterThanOrEqual(400);
    }
    const get = await fetch(`${gw.url}/admin/keys`, {
      headers: { origin, authorization: 'Bearer test-master-key-0123456789abcdef' },
    });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const call = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(call.status).toBe(200);
    expect(call.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('no credential in logs, stored traces or error bodies', () => {
  const MASTER = 'sk-admin-master-SECRET-4f1c9e2a7b';
  const UPSTREAM = 'sk-upstream-SECRET-8d3e6a0b5c';
  const CALLER = 'sk-caller-forwarded-SECRET-2b7f';
  const WRONG = `sk-gw-WRONGSECRET${'z'.repeat(30)}`;
  let upstream: MockOpenAI;
  let gw: GatewayProcess;

  beforeAll(async () => {
    upstream = await startMockOpenAI({ apiKey: UPSTREAM });
    gw = await spawnGateway({
      config: `
traces:
  jsonl: ./traces.jsonl
providers:
  up: { type: openai, base_url: "${upstream.baseUrl}", api_key: "\${UP_KEY}" }
  forward: { type: openai, base_url: "${upstream.baseUrl}" }
  badkey: { type: openai, base_url: "${upstream.baseUrl}", api_key: sk-upstream-WRONG-SECRET-77 }
routes:
  - match: { exact: forwarded }
    targets: [ { provider: forward } ]
  - match: { exact: refused-upstream }
    targets: [ { provider: badkey } ]
  - match: { any: true }
    targets: [ { provider: up } ]
`,
      env: { GATEWAY_MASTER_KEY: MASTER, UP_KEY: UPSTREAM, LOG_LEVEL: 'trace' },
    });
  }, 120_000);

  afterAll(async () => {
    await upstream.close();
    if (gw) {
      await gw.stop('SIGKILL');
      gw.cleanup();
    }
  });

  it('a run of calls, errors and admin work leaves no secret anywhere', async () => {
    const { id, key: clientKey } = await createKey(gw.url, MASTER, { name: 'leak-check' });
    const rotated = await adminCall<{ key: string }>(gw.url, MASTER, 'POST', `/admin/keys/${id}/rotate`, {
      grace_seconds: 60,
    });
    const secrets = [
      MASTER,
      UPSTREAM,
      CALLER,
      WRONG,
      clientKey,
      rotated.body.key,
      'sk-upstream-WRONG-SECRET-77',
    ];
    const bodies: string[] = [];
    const keep = async (p: Promise<unknown>): Promise<void> => {
      try {
        bodies.push(JSON.stringify(await p));
      } catch (err) {
        bodies.push(err instanceof OpenAI.APIError ? JSON.stringify(err.error) + err.message : String(err));
      }
    };
    const ask = (apiKey: string, model = 'gpt-4o', headers: Record<string, string> = {}) =>
      new OpenAI({
        baseURL: gw.baseURL,
        apiKey,
        maxRetries: 0,
        defaultHeaders: headers,
      }).chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'keep my secrets' }],
      });
    await keep(ask(clientKey));
    await keep(ask(rotated.body.key));
    await keep(ask(CALLER, 'forwarded'));
    await keep(ask(WRONG));
    await keep(ask(clientKey, 'refused-upstream'));
    await keep(ask(clientKey, 'gpt-4o', { 'x-api-key': clientKey, 'api-key': WRONG }));
    for (const auth of [`Bearer ${WRONG}`, `Bearer ${clientKey}`, null]) {
      bodies.push(JSON.stringify((await adminCall(gw.url, '', 'GET', '/admin/keys', undefined, auth)).body));
    }
    // Every stored trace, through the API and the export (traces are written within 2 s).
    await eventually(
      async () =>
        ((await adminCall<{ data: unknown[] }>(gw.url, MASTER, 'GET', '/api/records?limit=50')).body.data
          ?.length ?? 0) >= 5,
      10_000,
      100,
    );
    const exported = await fetch(`${gw.url}/api/records/export`, {
      headers: { authorization: `Bearer ${MASTER}` },
    });
    const jsonl = await exported.text();
    expect(jsonl.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(5);
    expect(await gw.stop('SIGTERM')).toBe(0);

    const places: Record<string, string> = {
      stdout: gw.stdout(),
      stderr: gw.stderr(),
      errorBodies: bodies.join('\n'),
      export: jsonl,
    };
    // The database files (SQLite + WAL) and the JSONL sink, as bytes.
    for (const f of readdirSync(gw.dir)) {
      if (/^gateway\.db/.test(f) || f.endsWith('.jsonl'))
        places[f] = readFileSync(join(gw.dir, f)).toString('latin1');
    }
    expect(gw.stdout().length).toBeGreaterThan(0);
    expect(places['traces.jsonl']?.length ?? 0).toBeGreaterThan(0);
    const leaks: string[] = [];
    for (const [where, text] of Object.entries(places)) {
      for (const s of secrets) if (text.includes(s)) leaks.push(`${where} holds ${s.slice(0, 12)}…`);
    }
    expect(leaks).toEqual([]);
  }, 120_000);
});

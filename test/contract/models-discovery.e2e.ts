/**
 * GET /v1/models with `discover_models: true`: each provider's own models, fetched concurrently
 * and cached; a failing provider leaves the rest of the list whole. The openai SDK is the caller.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, type Harness } from '../support/gateway-harness';
import {
  MOCK_ANTHROPIC_KEY,
  MOCK_ANTHROPIC_MODELS,
  startMockAnthropic,
  type MockAnthropic,
} from '../support/mock-anthropic';
import {
  MOCK_AZURE_DEPLOYMENTS,
  MOCK_AZURE_KEY,
  startMockAzure,
  type MockAzure,
} from '../support/mock-azure';
import {
  MOCK_GEMINI_KEY,
  MOCK_GEMINI_MODELS,
  startMockGemini,
  type MockGemini,
} from '../support/mock-gemini';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';

/**
 * Two OpenAI-style model lists (`/one/v1/models`, `/two/v1/models`) that answer only once both
 * requests are in: fetched one after the other, the first would wait until `giveUpMs` and fail.
 */
async function startBarrier(
  giveUpMs: number,
): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  const waiting: Array<{ path: string; res: ServerResponse }> = [];
  let hits = 0;
  const answer = (w: { path: string; res: ServerResponse }): void => {
    const name = w.path.split('/')[1] ?? 'x';
    const body = JSON.stringify({
      object: 'list',
      data: [{ id: `barrier-${name}`, object: 'model', created: 1, owned_by: 'barrier' }],
    });
    w.res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    hits++;
    waiting.push({ path: req.url ?? '/', res });
    if (waiting.length >= 2) {
      for (const w of waiting.splice(0)) answer(w);
      return;
    }
    setTimeout(() => {
      const i = waiting.findIndex((w) => w.res === res);
      if (i < 0) return;
      waiting.splice(i, 1);
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"alone"}}');
    }, giveUpMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('GET /v1/models with discover_models (openai SDK as caller)', () => {
  let openai: MockOpenAI;
  let anthropic: MockAnthropic;
  let gemini: MockGemini;
  let azure: MockAzure;
  let barrier: Awaited<ReturnType<typeof startBarrier>>;
  let gw: Harness;
  let client: OpenAI;

  const listCalls = (): number =>
    openai.requests.filter((r) => r.path.startsWith('/v1/models')).length +
    anthropic.requests.filter((r) => r.path.startsWith('/v1/models')).length +
    gemini.requests.filter((r) => r.path.startsWith('/v1beta/models')).length +
    azure.requests.filter((r) => r.path.startsWith('/openai/models')).length +
    barrier.hits();

  beforeAll(async () => {
    [openai, anthropic, gemini, azure, barrier] = await Promise.all([
      startMockOpenAI({ apiKey: 'sk-models', models: ['gpt-4o', 'gpt-4o-mini'] }),
      startMockAnthropic(),
      startMockGemini(),
      startMockAzure(),
      startBarrier(5000),
    ]);
    gw = await startGateway(`
providers:
  oa: { type: openai, base_url: "${openai.baseUrl}", api_key: sk-models, discover_models: true }
  claude: { type: anthropic, base_url: "${anthropic.baseUrl}", api_key: ${MOCK_ANTHROPIC_KEY}, discover_models: true }
  gem: { type: gemini, base_url: "${gemini.baseUrl}", api_key: ${MOCK_GEMINI_KEY}, discover_models: true }
  az: { type: azure, base_url: "${azure.endpoint}", api_key: ${MOCK_AZURE_KEY}, api_version: "2024-10-21", discover_models: true }
  one: { type: openai, base_url: "${barrier.url}/one/v1", discover_models: true }
  two: { type: openai, base_url: "${barrier.url}/two/v1", discover_models: true }
  broken: { type: anthropic, base_url: "${anthropic.baseUrl}", api_key: wrong-key, discover_models: true }
  quiet: { type: openai, base_url: "${openai.baseUrl}", api_key: sk-models }
  demo: { type: mock, models: [demo-a, demo-b], discover_models: true }
routes:
  - match: { exact: house-model }
    targets: [ { provider: quiet, model: gpt-4o } ]
  - match: { any: true }
    targets: [ { provider: oa } ]
`);
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'caller', maxRetries: 0, timeout: 20_000 });
  }, 30_000);

  afterAll(async () => {
    await gw?.close();
    await Promise.all([openai, anthropic, gemini, azure, barrier].map((m) => m?.close()));
  });

  it('lists route names and every discovering provider’s own models; a failing one is left out', async () => {
    const before = listCalls();
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids[0]).toBe('house-model');
    expect(ids).toEqual(
      expect.arrayContaining([
        'gpt-4o',
        'gpt-4o-mini',
        ...MOCK_ANTHROPIC_MODELS.map((m) => m.id),
        ...MOCK_GEMINI_MODELS.map((m) => m.id),
        ...Object.values(MOCK_AZURE_DEPLOYMENTS),
        'demo-a',
        'demo-b',
      ]),
    );
    const owners = new Map(page.data.map((m) => [m.id, m.owned_by]));
    expect(owners.get('claude-opus-4-1-20250805')).toBe('anthropic');
    expect(owners.get('gemini-2.5-pro')).toBe('google');
    expect(owners.get('demo-a')).toBe('demo');
    expect(owners.get('gpt-4o-2024-08-06')).toBe('azure');
    expect(page.data.every((m) => m.object === 'model')).toBe(true);
    // one list call per discovering provider (the broken one's 401 included); none for quiet
    expect(listCalls() - before).toBe(7);
    expect(openai.requests.filter((r) => r.path.startsWith('/v1/models'))).toHaveLength(1);
  });

  it('fetched the providers concurrently: two lists that answer only together both arrived', async () => {
    // Asked once each during the first call; one after the other, each would have failed alone.
    expect(barrier.hits()).toBe(2);
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['barrier-one', 'barrier-two']));
  });

  it('serves a second call from the cache: no upstream is asked again, except the failed one', async () => {
    const before = listCalls();
    const brokenBefore = anthropic.requests.filter((r) => r.headers['x-api-key'] === 'wrong-key').length;
    const again = await client.models.list();
    expect(again.data.map((m) => m.id)).toContain('claude-sonnet-4-5-20250929');
    const brokenAfter = anthropic.requests.filter((r) => r.headers['x-api-key'] === 'wrong-key').length;
    // a failure is not cached: the broken provider is asked again; nobody else is
    expect(brokenAfter - brokenBefore).toBe(1);
    expect(listCalls() - before).toBe(1);
  });

  it('retrieves one discovered model and answers an unknown id with 404 model_not_found', async () => {
    const m = await client.models.retrieve('gemini-2.5-flash');
    expect(m).toMatchObject({ id: 'gemini-2.5-flash', object: 'model', owned_by: 'google' });
    const err = await client.models.retrieve('no-such-model').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });
});

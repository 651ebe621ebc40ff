/**
 * Scale-out (SPEC §1 REDIS_URL, §4): two gateway processes on their own ports sharing one
 * PostgreSQL database (created for this run, dropped after) and the Redis on 127.0.0.1:6379
 * (a key prefix of this run, its keys deleted after). Keys, limits, revocation, usage, quotas
 * and traces are shared. Callers are the official openai SDK with the gateway key.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { adminCall, apiError, createKey, eventually, statusOf } from '../support/admin-client';
import { spawnGateway, type GatewayProcess } from '../support/spawn-gateway';
import {
  createTempPostgres,
  PG_ADMIN_URL,
  reachable,
  warnSkipped,
  type TempPostgres,
} from '../support/temp-postgres';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `gwtest-scale:${randomBytes(6).toString('hex')}:`;

const CONFIG = `
auth:
  require_client_key: true
providers:
  mock: { type: mock }
routes:
  - match: { any: true }
    targets: [ { provider: mock } ]
`;

interface KeyView {
  usage: { requests: number; total_tokens: number };
}

interface RecordsPage {
  data: Array<{ id: string }>;
}

let servicesUp = false;

beforeAll(async () => {
  servicesUp = (await reachable(PG_ADMIN_URL)) && (await reachable(REDIS_URL));
  if (!servicesUp) warnSkipped('scale-out on PostgreSQL + Redis', `${PG_ADMIN_URL} / ${REDIS_URL}`);
});

describe('two gateway processes sharing PostgreSQL and Redis', () => {
  let pg: TempPostgres | null = null;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let redis: Redis;

  beforeAll(async () => {
    if (!servicesUp) return;
    pg = await createTempPostgres('scale');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const env = { DATABASE_URL: pg.url, REDIS_URL, REDIS_PREFIX: PREFIX };
    // A first: it runs the migrations on the new database; then B (see the report on migration races).
    a = await spawnGateway({ config: CONFIG, env });
    b = await spawnGateway({ config: CONFIG, env });
  }, 240_000);

  afterAll(async () => {
    if (!servicesUp) return;
    const codes = await Promise.all([a?.stop('SIGTERM'), b?.stop('SIGTERM')]);
    // Faults the replicas reported (Redis, key events): shown, to explain a failure above.
    for (const [name, gw] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const faults = (gw?.stdout() ?? '').split('\n').filter((l) => /"level":(40|50)/.test(l));
      if (faults.length > 0) console.warn(`replica ${name} reported:\n${faults.slice(0, 20).join('\n')}`);
    }
    a?.cleanup();
    b?.cleanup();
    await pg?.drop();
    const keys = await redis.keys(`${PREFIX}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    expect(codes).toEqual([0, 0]);
  }, 120_000);

  const sdk = (gw: GatewayProcess, apiKey: string): OpenAI =>
    new OpenAI({ baseURL: gw.baseURL, apiKey, maxRetries: 0, timeout: 30_000 });
  const ask = (client: OpenAI, text = 'hello from the scale-out run') =>
    client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: text }] });
  const key = async (gw: GatewayProcess, id: string): Promise<KeyView> =>
    (await adminCall<KeyView>(gw.url, gw.masterKey, 'GET', `/admin/keys/${id}`)).body;

  it('a key created on A works on B', async () => {
    if (!servicesUp) return;
    const { key: secret } = await createKey(a.url, a.masterKey, { name: 'made-on-a' });
    // B learns of it through the Redis key event (a database read on B): bounded wait.
    expect(await eventually(async () => (await statusOf(ask(sdk(b, secret)))) === 200, 5000)).toBe(true);
    const res = await ask(sdk(b, secret), 'works on b');
    expect(res.choices[0]?.message.content).toBe('works on b');
  });

  it('an rpm limit of N holds across both: N + k calls spread over A and B, exactly N succeed', async () => {
    if (!servicesUp) return;
    const N = 6;
    const k = 6;
    const { key: secret } = await createKey(a.url, a.masterKey, { name: 'rpm-shared', rpm: N });
    await eventually(
      async () => (await adminCall(b.url, b.masterKey, 'GET', '/admin/keys')).status === 200,
      1000,
    );
    // Wait until B knows the key without spending the budget: a model-less call is not metered.
    expect(await eventually(async () => (await statusOf(sdk(b, secret).models.list())) === 200, 5000)).toBe(
      true,
    );
    const clients = [sdk(a, secret), sdk(b, secret)];
    const outcomes = await Promise.all(
      Array.from({ length: N + k }, async (_, i) => {
        try {
          await ask(clients[i % 2] as OpenAI);
          return 'ok';
        } catch (err) {
          if (err instanceof OpenAI.RateLimitError && err.code === 'rate_limit_exceeded') return '429';
          throw err;
        }
      }),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(N);
    expect(outcomes.filter((o) => o === '429')).toHaveLength(k);
  });

  it('a key revoked on A is refused by B within 1 s', async () => {
    if (!servicesUp) return;
    const { id, key: secret } = await createKey(a.url, a.masterKey, { name: 'revoke-shared' });
    const onB = sdk(b, secret);
    expect(await eventually(async () => (await statusOf(ask(onB))) === 200, 5000)).toBe(true);
    expect((await adminCall(a.url, a.masterKey, 'DELETE', `/admin/keys/${id}`)).status).toBe(204);
    const revokedAt = Date.now();
    let refusedAfter = -1;
    await eventually(
      async () => {
        // Counted from when the refused call was sent, not when its answer arrived.
        const sentAt = Date.now();
        if ((await statusOf(ask(onB))) !== 401) return false;
        refusedAfter = sentAt - revokedAt;
        return true;
      },
      5000,
      20,
    );
    expect(refusedAfter).toBeGreaterThanOrEqual(0);
    expect(refusedAfter).toBeLessThan(1000);
    const err = await apiError(ask(onB));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.code).toBe('invalid_api_key');
    expect((await apiError(ask(sdk(a, secret)))).status).toBe(401);
  });

  it('usage is shared: each replica reports the calls made on both', async () => {
    if (!servicesUp) return;
    const { id, key: secret } = await createKey(a.url, a.masterKey, { name: 'usage-shared' });
    expect(await eventually(async () => (await statusOf(sdk(b, secret).models.list())) === 200, 5000)).toBe(
      true,
    );
    for (let i = 0; i < 3; i++) await ask(sdk(a, secret), 'one two three');
    for (let i = 0; i < 2; i++) await ask(sdk(b, secret), 'one two three');
    // Usage is written in batches (1 s); both replicas then read the same totals.
    const both = async (): Promise<boolean> => {
      const [ua, ub] = [await key(a, id), await key(b, id)];
      return (
        ua.usage.requests === 5 && ub.usage.requests === 5 && ua.usage.total_tokens === ub.usage.total_tokens
      );
    };
    expect(await eventually(both, 10_000, 200)).toBe(true);
    expect((await key(a, id)).usage.total_tokens).toBeGreaterThan(0);
  });

  it('a quota spent on A is refused on B', async () => {
    if (!servicesUp) return;
    const { id, key: secret } = await createKey(a.url, a.masterKey, {
      name: 'quota-shared',
      max_tokens_total: 10,
    });
    expect(await eventually(async () => (await statusOf(sdk(b, secret).models.list())) === 200, 5000)).toBe(
      true,
    );
    // The mock provider counts words: one call with 12 words spends the whole quota on A.
    await ask(sdk(a, secret), 'one two three four five six seven eight nine ten eleven twelve');
    expect((await apiError(ask(sdk(a, secret)))).code).toBe('insufficient_quota');
    // B's admin read comes from the database: wait until A has written the usage (1 s batches).
    expect(await eventually(async () => (await key(b, id)).usage.requests === 1, 5000, 100)).toBe(true);
    // Then B's first metered call is refused although B itself has spent nothing (bounded wait
    // for the change to reach B's key cache; a model listing is not metered, so it can poll).
    await new Promise((r) => setTimeout(r, 1000));
    const err = await apiError(ask(sdk(b, secret)));
    expect(err.status).toBe(429);
    expect(err.code).toBe('insufficient_quota');
  });

  it('traces written by either replica are visible from both', async () => {
    if (!servicesUp) return;
    const { key: secret } = await createKey(a.url, a.masterKey, { name: 'traces-shared' });
    expect(await eventually(async () => (await statusOf(sdk(b, secret).models.list())) === 200, 5000)).toBe(
      true,
    );
    const ids: string[] = [];
    for (const gw of [a, b]) {
      const { response } = await sdk(gw, secret)
        .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'trace me' }] })
        .withResponse();
      const id = response.headers.get('x-gateway-trace-id');
      expect(id).toBeTruthy();
      ids.push(id as string);
    }
    for (const gw of [a, b]) {
      const seen = async (): Promise<boolean> => {
        const page = await adminCall<RecordsPage>(gw.url, gw.masterKey, 'GET', '/api/records?limit=200');
        const found = new Set(page.body.data.map((r) => r.id));
        return ids.every((id) => found.has(id));
      };
      expect(await eventually(seen, 10_000, 200)).toBe(true);
      for (const id of ids) {
        expect((await adminCall(gw.url, gw.masterKey, 'GET', `/api/records/${id}`)).status).toBe(200);
      }
    }
  });

  it('one session fed through both replicas at once numbers its turns 1..n without duplicates', async () => {
    if (!servicesUp) return;
    const { key: secret } = await createKey(a.url, a.masterKey, { name: 'turns-shared' });
    expect(await eventually(async () => (await statusOf(sdk(b, secret).models.list())) === 200, 5000)).toBe(
      true,
    );
    const session = `scale-${randomBytes(4).toString('hex')}`;
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        new OpenAI({
          baseURL: (i % 2 === 0 ? a : b).baseURL,
          apiKey: secret,
          maxRetries: 0,
          defaultHeaders: { 'X-Session-Id': session },
        }).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `turn ${i}` }] }),
      ),
    );
    let turns: number[] = [];
    await eventually(
      async () => {
        const page = await adminCall<{ data: Array<{ turn: number }> }>(
          a.url,
          a.masterKey,
          'GET',
          `/api/sessions/${session}/records`,
        );
        turns = (page.body.data ?? []).map((r) => r.turn).sort((x, y) => x - y);
        return turns.length === 6;
      },
      10_000,
      200,
    );
    expect(turns).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

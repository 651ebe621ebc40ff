/**
 * WORKERS=N (SPEC §1): N node:cluster workers on one port with the guarantees of replicas. The
 * primary prepares the master key and migrations once; limits and revocation hold across
 * workers without Redis (the primary keeps the counters, over IPC) and with Redis; SIGTERM to
 * the primary stops every worker with its traces flushed; a killed worker is replaced.
 * Runs on SQLite (two processes writing one WAL file) and on PostgreSQL + Redis.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { Client } from 'pg';
import { adminCall, createKey, eventually } from '../support/admin-client';
import { MASTER_KEY, spawnGateway, type GatewayProcess } from '../support/spawn-gateway';
import {
  createTempPostgres,
  PG_ADMIN_URL,
  reachable,
  warnSkipped,
  type TempPostgres,
} from '../support/temp-postgres';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WORKERS = 2;
/** The primary's line once every worker serves. */
const ALL_WORKERS = new RegExp(`listening on http://\\S+ \\(${WORKERS} workers\\)`);

const CONFIG = `
auth:
  require_client_key: true
providers:
  mock: { type: mock }
  slow: { type: mock, delay_ms: 600 }
routes:
  - match: { exact: slow }
    targets: [ { provider: slow } ]
  - match: { any: true }
    targets: [ { provider: mock } ]
`;

/** One call's outcome and the worker that answered it. */
interface Outcome {
  status: number;
  code: string | null;
  worker: string | null;
}

async function call(gw: GatewayProcess, apiKey: string, model = 'gpt-4o'): Promise<Outcome> {
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey, maxRetries: 0, timeout: 30_000 });
  try {
    const { response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'which worker answers' }] })
      .withResponse();
    return { status: 200, code: null, worker: response.headers.get('x-gateway-worker') };
  } catch (err) {
    if (!(err instanceof OpenAI.APIError)) throw err;
    return {
      status: err.status ?? 0,
      code: err.code ?? null,
      worker: err.headers?.get('x-gateway-worker') ?? null,
    };
  }
}

/** `n` concurrent calls: concurrency opens several connections, which the primary spreads. */
const burst = (gw: GatewayProcess, apiKey: string, n: number, model?: string): Promise<Outcome[]> =>
  Promise.all(Array.from({ length: n }, () => call(gw, apiKey, model)));

/** Waits until every worker knows a new key: model listings (not metered) all answer 200 from both. */
async function knownEverywhere(gw: GatewayProcess, apiKey: string): Promise<boolean> {
  return eventually(
    async () => {
      const replies = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const res = await fetch(`${gw.baseURL}/models`, { headers: { authorization: `Bearer ${apiKey}` } });
          await res.arrayBuffer();
          return { status: res.status, worker: res.headers.get('x-gateway-worker') };
        }),
      );
      return replies.every((r) => r.status === 200) && new Set(replies.map((r) => r.worker)).size === WORKERS;
    },
    5000,
    50,
  );
}

const workersOf = (outcomes: Outcome[]): Set<string> =>
  new Set(outcomes.map((o) => o.worker).filter((w): w is string => w !== null));

/** The cases every WORKERS setup must pass; `countTraces` reads the database after the stop. */
function workerCases(
  name: string,
  start: () => Promise<{ gw: GatewayProcess; countTraces: (model: string) => Promise<number> } | null>,
  finish: () => Promise<void>,
): void {
  describe(name, () => {
    let gw: GatewayProcess | null = null;
    let countTraces: (model: string) => Promise<number> = async () => 0;

    beforeAll(async () => {
      const started = await start();
      if (started) ({ gw, countTraces } = started);
    }, 240_000);

    afterAll(async () => {
      if (gw) {
        await gw.stop('SIGKILL');
        gw.cleanup();
      }
      await finish();
    }, 60_000);

    it('the primary prepared the master key and migrations once, then started the workers', () => {
      if (!gw) return;
      const out = gw.stdout();
      expect(out).toContain(`(${WORKERS} workers)`);
      // A generated master key is announced once, by the primary, and read from the file by workers.
      expect(out.split('Generated the gateway master key').length - 1).toBe(
        gw.masterKey === MASTER_KEY ? 0 : 1,
      );
      expect(out.match(/"msg":"worker \d+ serving/g)).toHaveLength(WORKERS);
    });

    it('spreads calls over the workers, and a key made on one worker works on all', async () => {
      if (!gw) return;
      const { key } = await createKey(gw.url, gw.masterKey, { name: 'spread' });
      let outcomes: Outcome[] = [];
      // The other workers load the new key when the primary relays the change: bounded wait.
      const ok = await eventually(
        async () => {
          outcomes = await burst(gw as GatewayProcess, key, 12);
          return outcomes.every((o) => o.status === 200);
        },
        3000,
        50,
      );
      expect(outcomes.map((o) => o.status)).toEqual(Array(12).fill(200));
      expect(ok).toBe(true);
      expect(workersOf(outcomes).size).toBe(WORKERS);
    });

    it('one scrape of /metrics counts the calls of every worker', async () => {
      if (!gw) return;
      const { key } = await createKey(gw.url, gw.masterKey, { name: 'metrics' });
      expect(await knownEverywhere(gw, key)).toBe(true);
      const model = `metrics-${randomBytes(3).toString('hex')}`;
      const counted = async (): Promise<number> => {
        const res = await fetch(`${(gw as GatewayProcess).url}/metrics`);
        expect(res.status).toBe(200);
        const text = await res.text();
        const line = text
          .split('\n')
          .find((l) => l.startsWith('gateway_requests_total{') && l.includes(`model="${model}"`));
        return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
      };
      const outcomes = await burst(gw, key, 12, model);
      expect(outcomes.every((o) => o.status === 200)).toBe(true);
      expect(workersOf(outcomes).size).toBe(WORKERS);
      // Whichever worker answers the scrape, it reports the calls of all of them.
      const scrapes = await Promise.all(Array.from({ length: 6 }, counted));
      expect(scrapes).toEqual(Array(6).fill(12));
    });

    it('an rpm limit of N holds in total across the workers', async () => {
      if (!gw) return;
      const N = 5;
      const { key } = await createKey(gw.url, gw.masterKey, { name: 'rpm', rpm: N });
      expect(await knownEverywhere(gw, key)).toBe(true);
      const outcomes = await burst(gw, key, 14);
      expect(workersOf(outcomes).size).toBe(WORKERS);
      expect(outcomes.filter((o) => o.status === 200)).toHaveLength(N);
      const refused = outcomes.filter((o) => o.status === 429);
      expect(refused).toHaveLength(14 - N);
      expect(refused.every((o) => o.code === 'rate_limit_exceeded')).toBe(true);
    });

    it('a revoked key is refused by every worker within 1 s', async () => {
      if (!gw) return;
      const { id, key } = await createKey(gw.url, gw.masterKey, { name: 'revoke' });
      expect(await knownEverywhere(gw, key)).toBe(true);
      expect((await burst(gw, key, 6)).every((o) => o.status === 200)).toBe(true);
      expect((await adminCall(gw.url, gw.masterKey, 'DELETE', `/admin/keys/${id}`)).status).toBe(204);
      const revokedAt = Date.now();
      let last: Outcome[] = [];
      // The time counted is when the first burst that was refused everywhere was sent (the
      // burst's own duration on a loaded machine is not the gateway's delay).
      let refusedFrom = -1;
      const refusedEverywhere = await eventually(
        async () => {
          const sentAt = Date.now();
          last = await burst(gw as GatewayProcess, key, 8);
          const all = last.every((o) => o.status === 401) && workersOf(last).size === WORKERS;
          if (all) refusedFrom = sentAt - revokedAt;
          return all;
        },
        5000,
        20,
      );
      expect(refusedEverywhere).toBe(true);
      expect(refusedFrom).toBeGreaterThanOrEqual(0);
      expect(refusedFrom).toBeLessThan(1000);
      expect(last.every((o) => o.code === 'invalid_api_key')).toBe(true);
    });

    it('a quota spent through one worker is refused by every worker', async () => {
      if (!gw) return;
      const { key } = await createKey(gw.url, gw.masterKey, { name: 'quota', max_tokens_total: 10 });
      expect(await knownEverywhere(gw, key)).toBe(true);
      // The mock provider counts words: this one call spends the whole quota.
      const client = new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 });
      await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [
          { role: 'user', content: 'one two three four five six seven eight nine ten eleven twelve' },
        ],
      });
      // Usage is written in 1 s batches and announced to the other workers: bounded wait.
      let last: Outcome[] = [];
      const refused = await eventually(
        async () => {
          last = await burst(gw as GatewayProcess, key, 8);
          return last.every((o) => o.code === 'insufficient_quota') && workersOf(last).size === WORKERS;
        },
        5000,
        200,
      );
      expect(last.map((o) => o.code)).toEqual(Array(8).fill('insufficient_quota'));
      expect(refused).toBe(true);
    });

    it('a killed worker is replaced and the port keeps answering', async () => {
      if (!gw) return;
      const pids = [...gw.stdout().matchAll(/"pid":(\d+),"msg":"worker \d+ serving/g)].map((m) =>
        Number(m[1]),
      );
      expect(pids.length).toBeGreaterThanOrEqual(WORKERS);
      const victim = pids[0] as number;
      process.kill(victim, 'SIGKILL');
      const replaced = await eventually(
        async () =>
          (gw as GatewayProcess).stdout().match(/"msg":"worker \d+ serving/g)?.length === WORKERS + 1,
        60_000,
        200,
      );
      expect(replaced).toBe(true);
      expect(gw.stdout()).toContain('worker died; starting a new one');
      const { key } = await createKey(gw.url, gw.masterKey, { name: 'after-restart' });
      expect(await knownEverywhere(gw, key)).toBe(true);
      const outcomes = await burst(gw, key, 12);
      expect(outcomes.every((o) => o.status === 200)).toBe(true);
      expect(workersOf(outcomes).size).toBe(WORKERS);
    }, 90_000);

    it('SIGTERM to the primary: in-flight calls on every worker finish, traces are flushed, exit 0', async () => {
      if (!gw) return;
      const { key } = await createKey(gw.url, gw.masterKey, { name: 'stop' });
      expect(await knownEverywhere(gw, key)).toBe(true);
      const calls = burst(gw, key, 16, 'slow');
      await new Promise((r) => setTimeout(r, 300));
      const code = gw.stop('SIGTERM', 60_000);
      const outcomes = await calls;
      expect(outcomes.map((o) => o.status)).toEqual(Array(16).fill(200));
      expect(workersOf(outcomes).size).toBe(WORKERS);
      expect(await code).toBe(0);
      expect(await countTraces('slow')).toBe(16);
    }, 120_000);
  });
}

let pgUp = false;
let redisUp = false;
beforeAll(async () => {
  pgUp = await reachable(PG_ADMIN_URL);
  redisUp = await reachable(REDIS_URL);
});

workerCases(
  `WORKERS=${WORKERS} on SQLite without Redis (IPC limits)`,
  async () => {
    // No GATEWAY_MASTER_KEY: the primary generates data/master.key once.
    const spawned = await spawnGateway({
      config: CONFIG,
      env: { WORKERS: String(WORKERS), GATEWAY_MASTER_KEY: undefined },
      ready: ALL_WORKERS,
    });
    const gw = { ...spawned, masterKey: readFileSync(join(spawned.dir, 'master.key'), 'utf8').trim() };
    const countTraces = async (model: string): Promise<number> => {
      const db = new Database(join(gw.dir, 'gateway.db'), { readonly: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM traces WHERE model = ?').get(model) as { n: number }).n;
      } finally {
        db.close();
      }
    };
    return { gw, countTraces };
  },
  async () => undefined,
);

let pg: TempPostgres | null = null;
let redis: Redis | null = null;
const prefix = `gwtest-workers:${randomBytes(6).toString('hex')}:`;
workerCases(
  `WORKERS=${WORKERS} on PostgreSQL + Redis`,
  async () => {
    if (!pgUp || !redisUp) {
      warnSkipped('WORKERS on PostgreSQL + Redis', `${PG_ADMIN_URL} / ${REDIS_URL}`);
      return null;
    }
    pg = await createTempPostgres('workers');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const url = pg.url;
    const gw = await spawnGateway({
      config: CONFIG,
      env: { WORKERS: String(WORKERS), DATABASE_URL: url, REDIS_URL, REDIS_PREFIX: prefix },
      ready: ALL_WORKERS,
    });
    const countTraces = async (model: string): Promise<number> => {
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        return Number(
          (await c.query('SELECT COUNT(*) AS n FROM traces WHERE model = $1', [model])).rows[0].n,
        );
      } finally {
        await c.end();
      }
    };
    return { gw, countTraces };
  },
  async () => {
    await pg?.drop();
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  },
);

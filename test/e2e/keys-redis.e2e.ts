/**
 * Two gateway replicas' access control sharing Redis (SPEC §1 REDIS_URL, §4): one rpm/tpm budget
 * per key across replicas, and a revocation on one replica refused by the other within 1 s.
 * Each replica has its own key cache, usage meter, Redis connections and KeysService; they share
 * one database, as replicas do.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { ClientKeyEntity } from '../../src/auth/client-key.entity';
import { CreateClientKeys1795347600000 } from '../../src/auth/create-client-keys.migration';
import { KeyAccessControl } from '../../src/auth/key-access-control';
import { KeyCache } from '../../src/auth/key-cache';
import { RedisKeyEvents } from '../../src/auth/key-events';
import { KeysService } from '../../src/auth/keys.service';
import { RedisRateLimiter } from '../../src/auth/redis-rate-limiter';
import { TypeOrmKeyRepository } from '../../src/auth/typeorm-key.repository';
import { UsageMeter } from '../../src/auth/usage-meter';
import { GatewayError } from '../../src/common/errors';
import { reachable } from '../support/temp-postgres';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `gwtest:${randomBytes(6).toString('hex')}:`;

interface Replica {
  keys: KeysService;
  access: KeyAccessControl;
  main: Redis;
  subscriber: Redis;
}

async function replica(dataSource: DataSource): Promise<Replica> {
  const main = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const subscriber = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const repo = new TypeOrmKeyRepository(dataSource);
  const cache = new KeyCache();
  const meter = new UsageMeter(repo);
  const events = new RedisKeyEvents(main, subscriber, PREFIX);
  const keys = new KeysService({ repo, cache, meter, events });
  const limiter = new RedisRateLimiter(main, { prefix: PREFIX });
  const access = new KeyAccessControl({ cache, meter, limiter, requireClientKey: () => true });
  await keys.start({ flushMs: 100, refreshMs: 60_000 });
  return { keys, access, main, subscriber };
}

const admitWith = (r: Replica, key: string, model = 'gpt-4o') =>
  r.access.admit({ headers: { authorization: `Bearer ${key}` }, model, endpoint: '/v1/chat/completions' });

async function outcome(
  p: Promise<unknown>,
): Promise<{ status: number; code: string | null; retryAfter?: string }> {
  try {
    await p;
    return { status: 200, code: null };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    const retryAfter = err.headers['retry-after'];
    return { status: err.status, code: err.code, ...(retryAfter !== undefined ? { retryAfter } : {}) };
  }
}

/** Milliseconds until `check` holds, polling every 10 ms; fails past `limitMs`. */
async function timeUntil(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start <= limitMs) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`not within ${limitMs} ms`);
}

describe('client keys across replicas with Redis', () => {
  let dir: string;
  let dataSource: DataSource;
  let a: Replica | null = null;
  let b: Replica | null = null;
  let up = false;

  beforeAll(async () => {
    up = await reachable(REDIS_URL);
    if (!up) {
      console.warn(
        `\n${'!'.repeat(78)}\n!! SKIPPED: Redis replica tests — nothing listens at ${REDIS_URL}\n${'!'.repeat(78)}\n`,
      );
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'gw-keys-redis-'));
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: join(dir, 'gateway.db'),
      entities: [ClientKeyEntity],
      migrations: [CreateClientKeys1795347600000],
      migrationsRun: true,
    }).initialize();
    a = await replica(dataSource);
    b = await replica(dataSource);
  });

  afterAll(async () => {
    if (!up) return;
    for (const r of [a, b]) {
      if (!r) continue;
      await r.keys.stop();
      r.subscriber.disconnect();
    }
    // Remove everything this file wrote, and check nothing is left.
    const redis = new Redis(REDIS_URL);
    const leftovers = await redis.keys(`${PREFIX}*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    expect(await redis.keys(`${PREFIX}*`)).toEqual([]);
    await redis.quit();
    for (const r of [a, b]) await r?.main.quit();
    await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shares one rpm budget between replicas', async () => {
    if (!up) return;
    const fresh = await a!.keys.create({ name: 'shared-rpm', rpm: 3 });
    await timeUntil(() => cacheHas(b!, fresh.key), 1000);
    expect((await outcome(admitWith(a!, fresh.key))).status).toBe(200);
    expect((await outcome(admitWith(b!, fresh.key))).status).toBe(200);
    expect((await outcome(admitWith(a!, fresh.key))).status).toBe(200);
    const onB = await outcome(admitWith(b!, fresh.key));
    expect(onB).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(Number(onB.retryAfter)).toBeGreaterThanOrEqual(59);
    expect(Number(onB.retryAfter)).toBeLessThanOrEqual(60);
    expect((await outcome(admitWith(a!, fresh.key))).code).toBe('rate_limit_exceeded');
  });

  it('shares tpm: tokens settled on one replica count on the other', async () => {
    if (!up) return;
    const { key, record } = await a!.keys.create({ name: 'shared-tpm', tpm: 100 });
    await timeUntil(() => cacheHas(b!, key), 1000);
    expect((await outcome(admitWith(a!, key))).status).toBe(200);
    a!.access.settle(record.id, { prompt_tokens: 80, completion_tokens: 40, total_tokens: 120 });
    const refused = await timeUntil(async () => (await outcome(admitWith(b!, key))).status === 429, 1000);
    expect(refused).toBeLessThan(1000);
    expect((await outcome(admitWith(b!, key))).code).toBe('rate_limit_exceeded');
  });

  it('a key revoked on one replica is refused by the other within 1 s', async () => {
    if (!up) return;
    const { key, record } = await a!.keys.create({ name: 'revoke-me' });
    await timeUntil(() => cacheHas(b!, key), 1000);
    expect((await outcome(admitWith(b!, key))).status).toBe(200);
    await a!.keys.revoke(record.id);
    expect((await outcome(admitWith(a!, key))).status).toBe(401);
    const ms = await timeUntil(async () => (await outcome(admitWith(b!, key))).status === 401, 1000);
    expect(ms).toBeLessThan(1000);
    expect(await outcome(admitWith(b!, key))).toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  it('changes (disable, model allow-list, rotation) reach the other replica within 1 s', async () => {
    if (!up) return;
    const { key, record } = await a!.keys.create({ name: 'change-me' });
    await timeUntil(() => cacheHas(b!, key), 1000);
    await a!.keys.update(record.id, { models: ['claude-*'] });
    await timeUntil(async () => (await outcome(admitWith(b!, key, 'gpt-4o'))).status === 403, 1000);
    await a!.keys.update(record.id, { enabled: false });
    await timeUntil(async () => (await outcome(admitWith(b!, key, 'claude-x'))).status === 401, 1000);
    await a!.keys.update(record.id, { enabled: true });
    const rotated = await a!.keys.rotate(record.id);
    await timeUntil(async () => (await outcome(admitWith(b!, rotated.key, 'claude-x'))).status === 200, 1000);
    expect((await outcome(admitWith(b!, key, 'claude-x'))).status).toBe(401);
  });

  it('subscribes whenever it is called during the connection handshake, and hears events', async () => {
    if (!up) return;
    // ioredis lets SUBSCRIBE out while the handshake runs; the handshake's INFO / CLIENT SETINFO
    // that follow are then refused in subscriber mode and the subscription is lost. Subscribing
    // at the 'connect' event hit that every time before RedisKeyEvents waited for 'ready'.
    const publisher = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        const subscriber = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
        const errors: unknown[] = [];
        subscriber.on('error', (err) => errors.push(err));
        try {
          await new Promise((resolve) => subscriber.once('connect', resolve));
          const heard: string[] = [];
          const events = new RedisKeyEvents(subscriber, subscriber, `${PREFIX}hs${i}:`);
          await events.subscribe((e) => heard.push(e.id));
          // Published with another origin, as by another replica.
          await publisher.publish(
            `${PREFIX}hs${i}:key-events`,
            JSON.stringify({ type: 'changed', id: `k${i}`, origin: 'elsewhere' }),
          );
          await timeUntil(async () => heard.length > 0, 1000);
          expect(heard).toEqual([`k${i}`]);
          expect(errors).toEqual([]);
          expect(subscriber.status).toBe('ready');
        } finally {
          subscriber.disconnect();
        }
      }
    } finally {
      await publisher.quit();
    }
  });
});

async function cacheHas(r: Replica, key: string): Promise<boolean> {
  // Model listing calls are identified but not metered, so polling with them uses no rpm slot.
  try {
    await r.access.admit({
      headers: { authorization: `Bearer ${key}` },
      model: null,
      endpoint: '/v1/models',
    });
    return true;
  } catch {
    return false;
  }
}

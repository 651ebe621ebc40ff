/**
 * Key admin API over HTTP (SPEC §4) on a Nest + Fastify app with the database and auth modules,
 * on SQLite and on PostgreSQL. A small /v1 stand-in controller shows what the gateway sees
 * through ACCESS_CONTROL (admit, settle).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Controller,
  Global,
  HttpCode,
  Inject,
  Module,
  Post,
  Req,
  UseFilters,
  type DynamicModule,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { ACCESS_CONTROL, type AccessControl } from '../../src/auth/access.interface';
import { AuthModule } from '../../src/auth/auth.module';
import { ClientKeyEntity } from '../../src/auth/client-key.entity';
import { CreateClientKeys1795347600000 } from '../../src/auth/create-client-keys.migration';
import { OpenAIExceptionFilter } from '../../src/common/openai-exception.filter';
import { DATA_SOURCE } from '../../src/common/tokens';
import {
  createTempPostgres,
  PG_ADMIN_URL,
  reachable,
  warnSkipped,
  type TempPostgres,
} from '../support/temp-postgres';

const MASTER = 'test-master-key-0123456789';

@Global()
@Module({})
class TestDatabaseModule {
  static forRoot(url: string): DynamicModule {
    return {
      module: TestDatabaseModule,
      providers: [
        {
          provide: DATA_SOURCE,
          useFactory: async () => {
            const common = {
              entities: [ClientKeyEntity],
              migrations: [CreateClientKeys1795347600000],
              migrationsRun: true,
            };
            const ds = url.startsWith('sqlite:')
              ? new DataSource({ type: 'better-sqlite3', database: url.slice('sqlite:'.length), ...common })
              : new DataSource({ type: 'postgres', url, ...common });
            return ds.initialize();
          },
        },
      ],
      exports: [DATA_SOURCE],
    };
  }
}

/** Stands in for the /v1 gateway: admits the call, then settles a fixed usage. */
@Controller('v1')
@UseFilters(new OpenAIExceptionFilter())
class FakeGatewayController {
  constructor(@Inject(ACCESS_CONTROL) private readonly access: AccessControl) {}

  @Post('chat/completions')
  @HttpCode(200)
  async chat(
    @Req() req: { headers: Record<string, string | string[] | undefined>; body: { model?: string } },
  ) {
    const grant = await this.access.admit({
      headers: req.headers,
      model: req.body.model ?? null,
      endpoint: '/v1/chat/completions',
    });
    if (grant.keyId)
      this.access.settle(grant.keyId, { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    return { key_id: grant.keyId, forwarded: grant.forwardToken !== null };
  }
}

interface Booted {
  app: NestFastifyApplication;
  base: string;
  dataSource: DataSource;
}

async function boot(url: string, flushIntervalMs = 50): Promise<Booted> {
  @Module({
    imports: [
      TestDatabaseModule.forRoot(url),
      AuthModule.forRoot({ masterKey: MASTER, env: {}, requireClientKey: () => false, flushIntervalMs }),
    ],
    controllers: [FakeGatewayController],
  })
  class TestAppModule {}
  const app = await NestFactory.create<NestFastifyApplication>(TestAppModule, new FastifyAdapter(), {
    logger: false,
  });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return { app, base: `http://127.0.0.1:${address.port}`, dataSource: app.get<DataSource>(DATA_SOURCE) };
}

interface Res {
  status: number;
  headers: Headers;
  // JSON bodies are inspected field by field in the assertions.

  body: any;
}

async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string | null; body?: unknown } = {},
): Promise<Res> {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? MASTER : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

function expectOpenAIError(res: Res, status: number, code?: string): void {
  expect(res.status).toBe(status);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  if (code !== undefined) expect(res.body.error.code).toBe(code);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
}

function adminSuite(
  name: string,
  setup: () => Promise<{ url: string; cleanup: () => Promise<void> } | null>,
): void {
  describe(`key admin API on ${name}`, () => {
    let booted: Booted | null = null;
    let cleanup: (() => Promise<void>) | null = null;
    let base = '';

    beforeAll(async () => {
      const db = await setup();
      if (!db) return;
      cleanup = db.cleanup;
      booted = await boot(db.url);
      base = booted.base;
    });

    afterAll(async () => {
      await booted?.app.close();
      await cleanup?.();
    });

    const live = () => booted !== null;

    it('refuses every admin call without the master key (401, OpenAI shape), a client key included', async () => {
      if (!live()) return;
      expectOpenAIError(await call(base, 'GET', '/admin/keys', { token: null }), 401, 'invalid_api_key');
      expectOpenAIError(await call(base, 'GET', '/admin/keys', { token: 'wrong' }), 401, 'invalid_api_key');
      const created = await call(base, 'POST', '/admin/keys', { body: { name: 'client' } });
      expect(created.status).toBe(201);
      expectOpenAIError(
        await call(base, 'GET', '/admin/keys', { token: created.body.key }),
        401,
        'invalid_api_key',
      );
      expectOpenAIError(
        await call(base, 'POST', '/admin/keys', { token: created.body.key, body: { name: 'x' } }),
        401,
        'invalid_api_key',
      );
    });

    it('creates a key and shows its secret once; the database holds only the SHA-256', async () => {
      if (!live()) return;
      const res = await call(base, 'POST', '/admin/keys', {
        body: {
          name: 'app',
          models: ['gpt-*'],
          rpm: 10,
          tpm: 1000,
          max_tokens_total: 5000,
          metadata: { team: 'x' },
        },
      });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(
        [
          'id',
          'key',
          'name',
          'key_prefix',
          'last4',
          'models',
          'rpm',
          'tpm',
          'max_tokens_total',
          'expires_at',
          'enabled',
          'created_at',
          'metadata',
        ].sort(),
      );
      expect(res.body.key).toMatch(/^sk-gw-[0-9A-Za-z]{40}$/);
      expect(res.body).toMatchObject({
        name: 'app',
        key_prefix: 'sk-gw-',
        last4: res.body.key.slice(-4),
        models: ['gpt-*'],
        rpm: 10,
        tpm: 1000,
        max_tokens_total: 5000,
        expires_at: null,
        enabled: true,
        metadata: { team: 'x' },
      });
      expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at);

      const rows: Array<Record<string, unknown>> = await booted!.dataSource.query(
        'SELECT * FROM client_keys WHERE id = $1'.replace(
          '$1',
          booted!.dataSource.options.type === 'postgres' ? '$1' : '?',
        ),
        [res.body.id],
      );
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(res.body.key);
      const { createHash } = await import('node:crypto');
      expect(rows[0]!.key_hash).toBe(createHash('sha256').update(res.body.key).digest('hex'));

      const one = await call(base, 'GET', `/admin/keys/${res.body.id}`);
      expect(one.status).toBe(200);
      expect(one.body.key).toBeUndefined();
      expect(one.body.usage).toEqual({
        requests: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
      });
    });

    it('validates bodies with 400 in OpenAI shape', async () => {
      if (!live()) return;
      expectOpenAIError(await call(base, 'POST', '/admin/keys', { body: {} }), 400);
      const badRpm = await call(base, 'POST', '/admin/keys', { body: { name: 'x', rpm: -1 } });
      expectOpenAIError(badRpm, 400);
      expect(badRpm.body.error.param).toBe('rpm');
      expectOpenAIError(
        await call(base, 'POST', '/admin/keys', { body: { name: 'x', models: 'gpt-4o' } }),
        400,
      );
      expectOpenAIError(
        await call(base, 'POST', '/admin/keys', { body: { name: 'x', unknown_field: 1 } }),
        400,
      );
      const past = await call(base, 'POST', '/admin/keys', {
        body: { name: 'x', expires_at: '2001-01-01T00:00:00Z' },
      });
      expectOpenAIError(past, 400);
      expect(past.body.error.param).toBe('expires_at');
      expectOpenAIError(await call(base, 'GET', '/admin/keys?limit=0'), 400);
      expectOpenAIError(await call(base, 'GET', '/admin/keys/key_unknown'), 404, 'key_not_found');
    });

    it('lists keys with cursor paging and never the secret', async () => {
      if (!live()) return;
      const made: string[] = [];
      for (let i = 0; i < 5; i++)
        made.push((await call(base, 'POST', '/admin/keys', { body: { name: `page-${i}` } })).body.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
        const res = await call(base, 'GET', `/admin/keys${q}`);
        expect(res.status).toBe(200);
        expect(Object.keys(res.body).sort()).toEqual(['data', 'next_cursor']);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        for (const k of res.body.data) {
          expect(k.key).toBeUndefined();
          expect(k.key_hash).toBeUndefined();
          expect(k.key_prefix).toBe('sk-gw-');
          seen.push(k.id);
        }
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor !== null && pages < 50);
      expect(cursor).toBeNull();
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(made));
      // Newest first.
      expect(seen.indexOf(made[4]!)).toBeLessThan(seen.indexOf(made[0]!));
    });

    it('patches name, models, limits, expiry and enabled', async () => {
      if (!live()) return;
      const created = (await call(base, 'POST', '/admin/keys', { body: { name: 'p', rpm: 5 } })).body;
      const expires = new Date(Date.now() + 3_600_000).toISOString();
      const res = await call(base, 'PATCH', `/admin/keys/${created.id}`, {
        body: { name: 'p2', models: ['claude-?-*'], rpm: null, tpm: 50, expires_at: expires, enabled: false },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        name: 'p2',
        models: ['claude-?-*'],
        rpm: null,
        tpm: 50,
        expires_at: expires,
        enabled: false,
      });
      const denied = await call(base, 'POST', '/v1/chat/completions', {
        token: created.key,
        body: { model: 'claude-3-x' },
      });
      expectOpenAIError(denied, 401, 'invalid_api_key');
      await call(base, 'PATCH', `/admin/keys/${created.id}`, { body: { enabled: true } });
      const ok = await call(base, 'POST', '/v1/chat/completions', {
        token: created.key,
        body: { model: 'claude-3-x' },
      });
      expect(ok.status).toBe(200);
      const forbidden = await call(base, 'POST', '/v1/chat/completions', {
        token: created.key,
        body: { model: 'gpt-4o' },
      });
      expectOpenAIError(forbidden, 403, 'model_not_allowed');
      expectOpenAIError(
        await call(base, 'PATCH', `/admin/keys/${created.id}`, { body: { enabled: 'yes' } }),
        400,
      );
    });

    it('counts usage from settled calls and writes it to the database', async () => {
      if (!live()) return;
      const created = (await call(base, 'POST', '/admin/keys', { body: { name: 'usage' } })).body;
      for (let i = 0; i < 3; i++) {
        const r = await call(base, 'POST', '/v1/chat/completions', {
          token: created.key,
          body: { model: 'gpt-4o' },
        });
        expect(r.body).toEqual({ key_id: created.id, forwarded: false });
      }
      const got = await call(base, 'GET', `/admin/keys/${created.id}`);
      expect(got.body.usage).toEqual({
        requests: 3,
        prompt_tokens: 21,
        completion_tokens: 9,
        total_tokens: 30,
      });
      const ds = booted!.dataSource;
      const sql = `SELECT usage_requests, usage_total_tokens FROM client_keys WHERE id = ${ds.options.type === 'postgres' ? '$1' : '?'}`;
      await waitFor(async () => {
        const rows: Array<Record<string, unknown>> = await ds.query(sql, [created.id]);
        return Number(rows[0]?.usage_requests) === 3 && Number(rows[0]?.usage_total_tokens) === 30;
      });
    });

    it('enforces rpm over HTTP with 429 and Retry-After, and the quota with insufficient_quota', async () => {
      if (!live()) return;
      const limited = (await call(base, 'POST', '/admin/keys', { body: { name: 'rpm', rpm: 2 } })).body;
      for (let i = 0; i < 2; i++) {
        expect(
          (await call(base, 'POST', '/v1/chat/completions', { token: limited.key, body: { model: 'm' } }))
            .status,
        ).toBe(200);
      }
      const refused = await call(base, 'POST', '/v1/chat/completions', {
        token: limited.key,
        body: { model: 'm' },
      });
      expectOpenAIError(refused, 429, 'rate_limit_exceeded');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);

      const budget = (
        await call(base, 'POST', '/admin/keys', { body: { name: 'quota', max_tokens_total: 15 } })
      ).body;
      expect(
        (await call(base, 'POST', '/v1/chat/completions', { token: budget.key, body: { model: 'm' } }))
          .status,
      ).toBe(200);
      expect(
        (await call(base, 'POST', '/v1/chat/completions', { token: budget.key, body: { model: 'm' } }))
          .status,
      ).toBe(200);
      const spent = await call(base, 'POST', '/v1/chat/completions', {
        token: budget.key,
        body: { model: 'm' },
      });
      expectOpenAIError(spent, 429, 'insufficient_quota');
    });

    it('rotates: new secret, same id; the old one works during the grace period only', async () => {
      if (!live()) return;
      const created = (await call(base, 'POST', '/admin/keys', { body: { name: 'rot', rpm: 100 } })).body;
      await call(base, 'POST', '/v1/chat/completions', { token: created.key, body: { model: 'm' } });

      const noGrace = await call(base, 'POST', `/admin/keys/${created.id}/rotate`);
      expect(noGrace.status).toBe(201);
      expect(noGrace.body.id).toBe(created.id);
      expect(noGrace.body.key).toMatch(/^sk-gw-[0-9A-Za-z]{40}$/);
      expect(noGrace.body.key).not.toBe(created.key);
      expect(noGrace.body.rpm).toBe(100);
      expectOpenAIError(
        await call(base, 'POST', '/v1/chat/completions', { token: created.key, body: { model: 'm' } }),
        401,
      );
      expect(
        (await call(base, 'POST', '/v1/chat/completions', { token: noGrace.body.key, body: { model: 'm' } }))
          .status,
      ).toBe(200);

      const withGrace = await call(base, 'POST', `/admin/keys/${created.id}/rotate`, {
        body: { grace_seconds: 1 },
      });
      expect(withGrace.status).toBe(201);
      const old = noGrace.body.key as string;
      expect(
        (await call(base, 'POST', '/v1/chat/completions', { token: old, body: { model: 'm' } })).status,
      ).toBe(200);
      expect(
        (
          await call(base, 'POST', '/v1/chat/completions', {
            token: withGrace.body.key,
            body: { model: 'm' },
          })
        ).status,
      ).toBe(200);
      let admittedDuringGrace = 0;
      await waitFor(async () => {
        const status = (
          await call(base, 'POST', '/v1/chat/completions', { token: old, body: { model: 'm' } })
        ).status;
        if (status === 200) admittedDuringGrace++;
        return status === 401;
      });

      // Usage carries over every rotation: one call per secret so far, plus the grace-period calls.
      const got = await call(base, 'GET', `/admin/keys/${created.id}`);
      expect(got.body.usage.requests).toBe(4 + admittedDuringGrace);
      expect(got.body.last4).toBe((withGrace.body.key as string).slice(-4));
      expectOpenAIError(
        await call(base, 'POST', `/admin/keys/${created.id}/rotate`, { body: { grace_seconds: -5 } }),
        400,
      );
    });

    it('revokes with 204; the key gets 401 at once and disappears from the API', async () => {
      if (!live()) return;
      const created = (await call(base, 'POST', '/admin/keys', { body: { name: 'rev' } })).body;
      expect(
        (await call(base, 'POST', '/v1/chat/completions', { token: created.key, body: { model: 'm' } }))
          .status,
      ).toBe(200);
      const del = await call(base, 'DELETE', `/admin/keys/${created.id}`);
      expect(del.status).toBe(204);
      expectOpenAIError(
        await call(base, 'POST', '/v1/chat/completions', { token: created.key, body: { model: 'm' } }),
        401,
        'invalid_api_key',
      );
      expectOpenAIError(await call(base, 'GET', `/admin/keys/${created.id}`), 404);
      expectOpenAIError(await call(base, 'DELETE', `/admin/keys/${created.id}`), 404);
    });

    it('loads keys from the database when the app starts again', async () => {
      if (!live()) return;
      const created = (await call(base, 'POST', '/admin/keys', { body: { name: 'persist', rpm: 1000 } }))
        .body;
      const url =
        booted!.dataSource.options.type === 'postgres'
          ? (booted!.dataSource.options as { url: string }).url
          : `sqlite:${String(booted!.dataSource.options.database)}`;
      await booted!.app.close();
      // No periodic flush this time: usage can only reach the database through the shutdown flush.
      booted = await boot(url, 600_000);
      base = booted.base;
      const r = await call(base, 'POST', '/v1/chat/completions', {
        token: created.key,
        body: { model: 'm' },
      });
      expect(r.body).toEqual({ key_id: created.id, forwarded: false });
      await booted.app.close();
      booted = await boot(url);
      base = booted.base;
      expect((await call(base, 'GET', `/admin/keys/${created.id}`)).body.usage).toEqual({
        requests: 1,
        prompt_tokens: 7,
        completion_tokens: 3,
        total_tokens: 10,
      });
    });
  });
}

adminSuite('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-keys-'));
  return {
    url: `sqlite:${join(dir, 'gateway.db')}`,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

adminSuite('PostgreSQL', async () => {
  if (!(await reachable(PG_ADMIN_URL))) {
    warnSkipped('key admin API on PostgreSQL', PG_ADMIN_URL);
    return null;
  }
  const db: TempPostgres = await createTempPostgres('keys');
  return { url: db.url, cleanup: () => db.drop() };
});

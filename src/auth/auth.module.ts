/**
 * Client keys, master key, rate limits and quotas (SPEC §3, §4). Global: provides
 * ACCESS_CONTROL for /v1, MASTER_KEY and MasterKeyGuard for /admin and /api, and the key
 * admin API. Needs the DATA_SOURCE of DatabaseModule.
 */
import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { KeysController } from '../admin/keys.controller';
import { DATA_SOURCE, ENV, LOGGER } from '../common/tokens';
import { primaryLink } from '../cluster/messages';
import { ACCESS_CONTROL } from './access.interface';
import { ClusterKeyEvents } from './cluster-key-events';
import { ClusterRateLimiter } from './cluster-rate-limiter';
import { KeyAccessControl } from './key-access-control';
import { KeyCache } from './key-cache';
import { LocalKeyEvents, RedisKeyEvents, type KeyEvents } from './key-events';
import { KEY_REPOSITORY, type KeyRepository } from './key.repository';
import { KeysService } from './keys.service';
import { resolveMasterKey } from './master-key';
import { MASTER_KEY, MasterKeyGuard } from './master-key.guard';
import { MemoryRateLimiter, type RateLimiter } from './rate-limiter';
import { RedisRateLimiter } from './redis-rate-limiter';
import { TypeOrmKeyRepository } from './typeorm-key.repository';
import { UsageMeter } from './usage-meter';

export interface AuthModuleOptions {
  /** The master key; default: GATEWAY_MASTER_KEY, else data/master.key (generated when absent). */
  masterKey?: string;
  /** Environment read for GATEWAY_MASTER_KEY, DATABASE_URL and REDIS_URL (default: process.env). */
  env?: Record<string, string | undefined>;
  /** `auth.require_client_key`, read per call (default: false). */
  requireClientKey?: () => boolean;
  /** Prefix of every Redis key and channel (default `gw:`). */
  redisPrefix?: string;
  /** How often pending usage is written (default 1000 ms) and keys reloaded (default 30 s). */
  flushIntervalMs?: number;
  refreshIntervalMs?: number;
  now?: () => number;
}

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');
const AUTH_REDIS = Symbol('AUTH_REDIS');
const AUTH_ENV = Symbol('AUTH_ENV');
const AUTH_REPORT = Symbol('AUTH_REPORT');
const RATE_LIMITER = Symbol('RATE_LIMITER');
const KEY_EVENTS = Symbol('KEY_EVENTS');

interface RedisLinks {
  main: Redis;
  subscriber: Redis;
}

/** Reports a failure off the request path: `during` names the activity; no credentials. */
type Report = (during: string, err: unknown) => void;

interface WarnLogger {
  warn(obj: object, msg: string): void;
}

function reporter(logger: unknown): Report {
  const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
  if (logger && typeof (logger as Partial<WarnLogger>).warn === 'function') {
    const pinoLike = logger as WarnLogger;
    return (during, err) => pinoLike.warn({ component: 'auth', error: message(err) }, `${during} failed`);
  }
  const nest = new Logger('Auth');
  return (during, err) => nest.warn(`${during} failed: ${message(err)}`);
}

/** GATEWAY_MASTER_KEY, DATABASE_URL, REDIS_URL: from the options, else the app's ENV, else process.env. */
function envValues(options: AuthModuleOptions, appEnv: unknown): Record<string, string | undefined> {
  const source =
    options.env ?? (appEnv && typeof appEnv === 'object' ? (appEnv as Record<string, unknown>) : process.env);
  const pick = (name: string): string | undefined => {
    const v = source[name];
    return typeof v === 'string' && v.trim() !== '' ? v : undefined;
  };
  return {
    GATEWAY_MASTER_KEY: pick('GATEWAY_MASTER_KEY'),
    DATABASE_URL: pick('DATABASE_URL'),
    REDIS_URL: pick('REDIS_URL'),
  };
}

function connectRedis(url: string | undefined, report: Report): RedisLinks | null {
  if (!url) return null;
  const main = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 500, enableAutoPipelining: true });
  // Connected by RedisKeyEvents, which subscribes only once the handshake is over.
  const subscriber = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  main.on('error', (err) => report('redis', err));
  subscriber.on('error', (err) => report('redis subscriber', err));
  return { main, subscriber };
}

/** Starts key loading and timers with the app; flushes usage and closes Redis when it stops. */
@Injectable()
class AuthLifecycle implements OnModuleInit, OnModuleDestroy {
  constructor(
    private readonly keys: KeysService,
    @Inject(AUTH_OPTIONS) private readonly options: AuthModuleOptions,
    @Inject(AUTH_REDIS) private readonly redis: RedisLinks | null,
    @Inject(AUTH_REPORT) private readonly report: Report,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.keys.start({
      flushMs: this.options.flushIntervalMs ?? 1000,
      refreshMs: this.options.refreshIntervalMs ?? 30_000,
    });
  }

  async onModuleDestroy(): Promise<void> {
    try {
      await this.keys.stop();
    } catch (err) {
      this.report('usage flush at shutdown', err);
    }
    if (this.redis) {
      this.redis.subscriber.disconnect();
      await this.redis.main.quit().catch(() => undefined);
    }
  }
}

@Global()
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions = {}): DynamicModule {
    const prefix = options.redisPrefix ?? 'gw:';
    const now = options.now ?? Date.now;
    return {
      module: AuthModule,
      controllers: [KeysController],
      providers: [
        { provide: AUTH_OPTIONS, useValue: options },
        {
          provide: AUTH_ENV,
          inject: [{ token: ENV, optional: true }],
          useFactory: (appEnv: unknown) => envValues(options, appEnv),
        },
        { provide: AUTH_REPORT, inject: [{ token: LOGGER, optional: true }], useFactory: reporter },
        {
          provide: MASTER_KEY,
          inject: [AUTH_ENV],
          useFactory: (env: Record<string, string | undefined>) =>
            options.masterKey ??
            resolveMasterKey({ envKey: env.GATEWAY_MASTER_KEY, databaseUrl: env.DATABASE_URL }).key,
        },
        MasterKeyGuard,
        {
          provide: AUTH_REDIS,
          inject: [AUTH_ENV, AUTH_REPORT],
          useFactory: (env: Record<string, string | undefined>, report: Report) =>
            connectRedis(env.REDIS_URL, report),
        },
        {
          provide: KEY_REPOSITORY,
          inject: [DATA_SOURCE],
          useFactory: (ds: DataSource): KeyRepository => new TypeOrmKeyRepository(ds),
        },
        { provide: KeyCache, useFactory: () => new KeyCache() },
        {
          provide: UsageMeter,
          inject: [KEY_REPOSITORY],
          useFactory: (repo: KeyRepository) => new UsageMeter(repo),
        },
        {
          provide: RATE_LIMITER,
          inject: [AUTH_REDIS, AUTH_REPORT],
          useFactory: (redis: RedisLinks | null, report: Report): RateLimiter => {
            if (redis) {
              return new RedisRateLimiter(redis.main, {
                prefix,
                onError: (err) => report('redis rate limit', err),
              });
            }
            // WORKERS=N without Redis: the cluster primary holds the counters.
            const link = primaryLink();
            return link
              ? new ClusterRateLimiter(link, { onError: (err) => report('cluster rate limit', err) })
              : new MemoryRateLimiter();
          },
        },
        {
          provide: KEY_EVENTS,
          inject: [AUTH_REDIS, AUTH_REPORT],
          useFactory: (redis: RedisLinks | null, report: Report): KeyEvents => {
            if (redis) {
              return new RedisKeyEvents(redis.main, redis.subscriber, prefix, (err) =>
                report('key event publish', err),
              );
            }
            const link = primaryLink();
            return link
              ? new ClusterKeyEvents(link, (err) => report('cluster key event', err))
              : new LocalKeyEvents();
          },
        },
        {
          provide: KeysService,
          inject: [KEY_REPOSITORY, KeyCache, UsageMeter, KEY_EVENTS, AUTH_REPORT],
          useFactory: (
            repo: KeyRepository,
            cache: KeyCache,
            meter: UsageMeter,
            events: KeyEvents,
            report: Report,
          ) =>
            new KeysService({
              repo,
              cache,
              meter,
              events,
              now,
              onError: (err, during) => report(during, err),
            }),
        },
        {
          provide: ACCESS_CONTROL,
          inject: [KeyCache, UsageMeter, RATE_LIMITER],
          useFactory: (cache: KeyCache, meter: UsageMeter, limiter: RateLimiter) =>
            new KeyAccessControl({
              cache,
              meter,
              limiter,
              now,
              requireClientKey: options.requireClientKey ?? (() => false),
            }),
        },
        AuthLifecycle,
      ],
      exports: [ACCESS_CONTROL, MASTER_KEY, MasterKeyGuard, KeysService],
    };
  }
}

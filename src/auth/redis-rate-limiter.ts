/**
 * rpm/tpm counters in Redis, shared by every replica (SPEC §1 REDIS_URL). Same semantics as
 * MemoryRateLimiter: rpm is a sorted set of request times, tpm a hash of 1 s buckets; the check
 * and the write happen in one Lua script, so concurrent replicas cannot both take the last slot.
 * When Redis is unreachable, calls are admitted (limits fail open) and the fault is reported.
 */
import { randomBytes } from 'node:crypto';
import type { Redis, Result } from 'ioredis';
import { BUCKET_MS, WINDOW_MS, type LimitDecision, type Limits, type RateLimiter } from './rate-limiter';

// KEYS[1] rpm sorted set, KEYS[2] tpm hash.
// ARGV: now, window, bucket, rpm (0 = none), tpm (0 = none), member.
// Returns {0} when admitted, {1, wait} for tpm, {2, wait} for rpm.
const ADMIT_SCRIPT = `
local now = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
local bucket = tonumber(ARGV[3])
local rpm = tonumber(ARGV[4])
local tpm = tonumber(ARGV[5])
if tpm > 0 then
  local raw = redis.call('HGETALL', KEYS[2])
  local live = {}
  local sum = 0
  for i = 1, #raw, 2 do
    local idx = tonumber(raw[i])
    local tokens = tonumber(raw[i + 1])
    if (idx + 1) * bucket + win <= now then
      redis.call('HDEL', KEYS[2], raw[i])
    else
      table.insert(live, {idx, tokens})
      sum = sum + tokens
    end
  end
  if sum >= tpm then
    table.sort(live, function(a, b) return a[1] < b[1] end)
    for _, b in ipairs(live) do
      sum = sum - b[2]
      if sum < tpm then
        return {1, (b[1] + 1) * bucket + win - now}
      end
    end
    return {1, win}
  end
end
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)
  local count = redis.call('ZCARD', KEYS[1])
  if count >= rpm then
    local edge = redis.call('ZRANGE', KEYS[1], count - rpm, count - rpm, 'WITHSCORES')
    return {2, tonumber(edge[2]) + win - now}
  end
  redis.call('ZADD', KEYS[1], now, ARGV[6])
  redis.call('PEXPIRE', KEYS[1], win + bucket)
end
return {0}
`;

export interface RedisRateLimiterOptions {
  /** Prefix of every Redis key (tests use their own and delete it afterwards). */
  prefix: string;
  onError?: (err: unknown) => void;
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gwAdmit(
      rpmKey: string,
      tpmKey: string,
      now: number,
      window: number,
      bucket: number,
      rpm: number,
      tpm: number,
      member: string,
    ): Result<[number, number?], Context>;
  }
}

export class RedisRateLimiter implements RateLimiter {
  private readonly prefix: string;
  private readonly onError: (err: unknown) => void;

  constructor(
    private readonly redis: Redis,
    options: RedisRateLimiterOptions,
  ) {
    this.prefix = options.prefix;
    this.onError = options.onError ?? (() => undefined);
    this.redis.defineCommand('gwAdmit', { numberOfKeys: 2, lua: ADMIT_SCRIPT });
  }

  rpmKey(keyId: string): string {
    return `${this.prefix}rpm:${keyId}`;
  }

  tpmKey(keyId: string): string {
    return `${this.prefix}tpm:${keyId}`;
  }

  async admit(keyId: string, limits: Limits, now: number): Promise<LimitDecision> {
    if (limits.rpm === null && limits.tpm === null) return { ok: true };
    const member = `${now}-${randomBytes(6).toString('hex')}`;
    try {
      const [verdict, wait] = await this.redis.gwAdmit(
        this.rpmKey(keyId),
        this.tpmKey(keyId),
        now,
        WINDOW_MS,
        BUCKET_MS,
        limits.rpm ?? 0,
        limits.tpm ?? 0,
        member,
      );
      if (verdict === 1) return { ok: false, limit: 'tpm', retryAfterMs: Number(wait) };
      if (verdict === 2) return { ok: false, limit: 'rpm', retryAfterMs: Number(wait) };
      return { ok: true };
    } catch (err) {
      this.onError(err);
      return { ok: true };
    }
  }

  addTokens(keyId: string, tokens: number, now: number): void {
    if (!(tokens > 0)) return;
    const key = this.tpmKey(keyId);
    this.redis
      .multi()
      .hincrby(key, String(Math.floor(now / BUCKET_MS)), Math.round(tokens))
      .pexpire(key, WINDOW_MS + 2 * BUCKET_MS)
      .exec()
      .catch((err: unknown) => this.onError(err));
  }

  async close(): Promise<void> {
    // The connection belongs to the caller.
  }
}

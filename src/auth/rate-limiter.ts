/**
 * Per-key `rpm` and `tpm` over a sliding 60 s window (SPEC §4).
 *
 * rpm: every admitted request is a timestamp; a request is refused while `rpm` timestamps lie in
 * the last 60 s, until the oldest of them leaves the window.
 * tpm: settled tokens are summed in 1 s buckets; a bucket counts until 60 s after its end (so the
 * window never undercounts). A request is refused while the tokens in the window reach `tpm`.
 */
export const WINDOW_MS = 60_000;
export const BUCKET_MS = 1_000;

export interface Limits {
  rpm: number | null;
  tpm: number | null;
}

export type LimitDecision = { ok: true } | { ok: false; limit: 'rpm' | 'tpm'; retryAfterMs: number };

export interface RateLimiter {
  /** Checks both limits and, when admitted and `rpm` is set, records the request. */
  admit(keyId: string, limits: Limits, now: number): Promise<LimitDecision>;
  /** Records tokens settled for a key (counted against `tpm`). */
  addTokens(keyId: string, tokens: number, now: number): void;
  close(): Promise<void>;
}

/** Whole seconds for `Retry-After`, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

interface Bucket {
  /** Bucket index: floor(t / BUCKET_MS). */
  index: number;
  tokens: number;
}

/** When the tokens of a bucket stop counting. */
export function bucketExpiry(index: number): number {
  return (index + 1) * BUCKET_MS + WINDOW_MS;
}

/** Time until the summed buckets drop below `tpm`; 0 when they already are. Buckets oldest first. */
export function tpmWait(buckets: readonly Bucket[], tpm: number, now: number): number {
  let sum = buckets.reduce((s, b) => s + b.tokens, 0);
  if (sum < tpm) return 0;
  for (const b of buckets) {
    sum -= b.tokens;
    if (sum < tpm) return bucketExpiry(b.index) - now;
  }
  return WINDOW_MS;
}

/**
 * The admitted requests' timestamps, oldest first: a ring of doubles that grows by doubling.
 * Dropping the oldest is O(1) (an Array's `shift()` moves every element once the array is large,
 * and a key with a high rpm holds up to rpm timestamps).
 */
export class Timestamps {
  private ring = new Float64Array(16);
  private head = 0;
  size = 0;

  push(t: number): void {
    if (this.size === this.ring.length) {
      const grown = new Float64Array(this.ring.length * 2);
      for (let i = 0; i < this.size; i++) grown[i] = this.at(i);
      this.ring = grown;
      this.head = 0;
    }
    this.ring[(this.head + this.size) % this.ring.length] = t;
    this.size++;
  }

  /** The i-th oldest. */
  at(i: number): number {
    return this.ring[(this.head + i) % this.ring.length] as number;
  }

  /** Drops the timestamps at or before `cutoff`. */
  dropThrough(cutoff: number): void {
    while (this.size > 0 && this.at(0) <= cutoff) {
      this.head = (this.head + 1) % this.ring.length;
      this.size--;
    }
    if (this.size === 0) this.head = 0;
  }
}

interface KeyWindow {
  requests: Timestamps;
  buckets: Bucket[];
}

/** Counters held in this process (no Redis). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, KeyWindow>();

  private window(keyId: string): KeyWindow {
    let w = this.windows.get(keyId);
    if (!w) {
      w = { requests: new Timestamps(), buckets: [] };
      this.windows.set(keyId, w);
    }
    return w;
  }

  private prune(w: KeyWindow, now: number): void {
    w.requests.dropThrough(now - WINDOW_MS);
    while (w.buckets.length > 0 && bucketExpiry(w.buckets[0]?.index ?? 0) <= now) w.buckets.shift();
  }

  async admit(keyId: string, limits: Limits, now: number): Promise<LimitDecision> {
    if (limits.rpm === null && limits.tpm === null) return { ok: true };
    const w = this.window(keyId);
    this.prune(w, now);
    if (limits.tpm !== null) {
      const wait = tpmWait(w.buckets, limits.tpm, now);
      if (wait > 0) return { ok: false, limit: 'tpm', retryAfterMs: wait };
    }
    if (limits.rpm !== null) {
      if (w.requests.size >= limits.rpm) {
        const oldest = limits.rpm > 0 ? w.requests.at(w.requests.size - limits.rpm) : now;
        return { ok: false, limit: 'rpm', retryAfterMs: oldest + WINDOW_MS - now };
      }
      w.requests.push(now);
    }
    return { ok: true };
  }

  addTokens(keyId: string, tokens: number, now: number): void {
    if (!(tokens > 0)) return;
    const w = this.window(keyId);
    this.prune(w, now);
    const index = Math.floor(now / BUCKET_MS);
    const last = w.buckets[w.buckets.length - 1];
    if (last && last.index === index) last.tokens += tokens;
    else w.buckets.push({ index, tokens });
  }

  /** Drops the counters of a key (e.g. after revocation). */
  forget(keyId: string): void {
    this.windows.delete(keyId);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }
}

import { MemoryRateLimiter, retryAfterSeconds, Timestamps, tpmWait, WINDOW_MS } from './rate-limiter';

describe('MemoryRateLimiter', () => {
  const T0 = 1_700_000_000_000;

  it('admits rpm requests per sliding 60 s window and refuses the next with the wait until a slot frees', async () => {
    const limiter = new MemoryRateLimiter();
    const limits = { rpm: 3, tpm: null };
    expect(await limiter.admit('k', limits, T0)).toEqual({ ok: true });
    expect(await limiter.admit('k', limits, T0 + 10_000)).toEqual({ ok: true });
    expect(await limiter.admit('k', limits, T0 + 20_000)).toEqual({ ok: true });
    expect(await limiter.admit('k', limits, T0 + 30_000)).toEqual({
      ok: false,
      limit: 'rpm',
      retryAfterMs: 30_000,
    });
    // The window slides: at T0 + 60 s the first request leaves it.
    expect(await limiter.admit('k', limits, T0 + 59_999)).toMatchObject({ ok: false, retryAfterMs: 1 });
    expect(await limiter.admit('k', limits, T0 + 60_000)).toEqual({ ok: true });
    expect(await limiter.admit('k', limits, T0 + 60_001)).toEqual({
      ok: false,
      limit: 'rpm',
      retryAfterMs: 9_999,
    });
  });

  it('does not count refused requests', async () => {
    const limiter = new MemoryRateLimiter();
    const limits = { rpm: 1, tpm: null };
    expect((await limiter.admit('k', limits, T0)).ok).toBe(true);
    for (let i = 1; i <= 5; i++) expect((await limiter.admit('k', limits, T0 + i * 1000)).ok).toBe(false);
    expect((await limiter.admit('k', limits, T0 + WINDOW_MS)).ok).toBe(true);
  });

  it('keeps keys apart', async () => {
    const limiter = new MemoryRateLimiter();
    expect((await limiter.admit('a', { rpm: 1, tpm: null }, T0)).ok).toBe(true);
    expect((await limiter.admit('b', { rpm: 1, tpm: null }, T0)).ok).toBe(true);
    expect((await limiter.admit('a', { rpm: 1, tpm: null }, T0)).ok).toBe(false);
  });

  it('refuses while the tokens settled in the window reach tpm, until enough of them age out', async () => {
    const limiter = new MemoryRateLimiter();
    const limits = { rpm: null, tpm: 100 };
    expect((await limiter.admit('k', limits, T0)).ok).toBe(true);
    limiter.addTokens('k', 60, T0 + 500); // bucket [T0, T0+1s) counts until T0 + 61 s
    expect((await limiter.admit('k', limits, T0 + 5_000)).ok).toBe(true);
    limiter.addTokens('k', 50, T0 + 10_000); // 110 ≥ 100
    const refused = await limiter.admit('k', limits, T0 + 20_000);
    expect(refused).toEqual({ ok: false, limit: 'tpm', retryAfterMs: 41_000 });
    expect((await limiter.admit('k', limits, T0 + 60_999)).ok).toBe(false);
    // The first bucket has left the window: 50 < 100.
    expect((await limiter.admit('k', limits, T0 + 61_000)).ok).toBe(true);
  });

  it('applies a lowered rpm to requests already in the window', async () => {
    const limiter = new MemoryRateLimiter();
    for (let i = 0; i < 5; i++) await limiter.admit('k', { rpm: 10, tpm: null }, T0 + i * 1000);
    // 5 in the window, new limit 2: wait until 4 of them have left (the 4th was at T0 + 3 s).
    expect(await limiter.admit('k', { rpm: 2, tpm: null }, T0 + 10_000)).toEqual({
      ok: false,
      limit: 'rpm',
      retryAfterMs: 53_000,
    });
  });

  it('admits everything when no limit is set', async () => {
    const limiter = new MemoryRateLimiter();
    for (let i = 0; i < 100; i++)
      expect((await limiter.admit('k', { rpm: null, tpm: null }, T0)).ok).toBe(true);
  });
});

describe('tpmWait and retryAfterSeconds', () => {
  it('finds the bucket whose expiry brings the sum under the limit', () => {
    const buckets = [
      { index: 10, tokens: 40 },
      { index: 20, tokens: 40 },
      { index: 30, tokens: 40 },
    ];
    // 120 ≥ 100; dropping bucket 10 leaves 80 < 100: it expires at 11 s + 60 s.
    expect(tpmWait(buckets, 100, 40_000)).toBe(71_000 - 40_000);
    // Limit 50: buckets 10 and 20 must go (40 < 50): 21 s + 60 s.
    expect(tpmWait(buckets, 50, 40_000)).toBe(81_000 - 40_000);
    expect(tpmWait(buckets, 121, 40_000)).toBe(0);
  });

  it('rounds Retry-After up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(29_500)).toBe(30);
  });
});

describe('Timestamps', () => {
  it('keeps timestamps oldest first across wrap-around and growth, and drops through a cutoff', () => {
    const q = new Timestamps();
    const model: number[] = [];
    let t = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 7 + round; i++) {
        q.push(++t);
        model.push(t);
      }
      const cutoff = t - 5 - (round % 4);
      q.dropThrough(cutoff);
      while (model.length > 0 && model[0]! <= cutoff) model.shift();
      expect(Array.from({ length: q.size }, (_, i) => q.at(i))).toEqual(model);
    }
    q.dropThrough(t);
    expect(q.size).toBe(0);
    q.push(1);
    expect(q.at(0)).toBe(1);
  });
});

/**
 * rpm/tpm counters for WORKERS=N without Redis: the cluster primary holds one MemoryRateLimiter
 * for every worker, and each worker asks it over IPC (src/cluster/messages.ts). Same semantics as
 * MemoryRateLimiter, one budget per key for the whole machine. When the primary does not answer
 * in time, the call is admitted (limits fail open, as with Redis) and the fault is reported.
 */
import type { PrimaryLink } from '../cluster/messages';
import type { LimitDecision, Limits, RateLimiter } from './rate-limiter';

export interface ClusterRateLimiterOptions {
  /** How long to wait for the primary's answer (default 1000 ms). */
  timeoutMs?: number;
  onError?: (err: unknown) => void;
}

interface Waiting {
  resolve: (d: LimitDecision) => void;
  timer: NodeJS.Timeout;
}

export class ClusterRateLimiter implements RateLimiter {
  private seq = 0;
  private readonly waiting = new Map<number, Waiting>();
  private readonly timeoutMs: number;
  private readonly onError: (err: unknown) => void;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly link: PrimaryLink,
    options: ClusterRateLimiterOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.onError = options.onError ?? (() => undefined);
    this.unsubscribe = link.onMessage((m) => {
      if (m.gw !== 'decision') return;
      const w = this.waiting.get(m.seq);
      if (!w) return;
      this.waiting.delete(m.seq);
      clearTimeout(w.timer);
      w.resolve(m.decision);
    });
  }

  admit(keyId: string, limits: Limits, now: number): Promise<LimitDecision> {
    if (limits.rpm === null && limits.tpm === null) return Promise.resolve({ ok: true });
    const seq = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        this.onError(new Error(`cluster primary did not answer a rate-limit check in ${this.timeoutMs} ms`));
        resolve({ ok: true });
      }, this.timeoutMs);
      timer.unref();
      this.waiting.set(seq, { resolve, timer });
      try {
        this.link.send({ gw: 'admit', seq, keyId, limits, now });
      } catch (err) {
        clearTimeout(timer);
        this.waiting.delete(seq);
        this.onError(err);
        resolve({ ok: true });
      }
    });
  }

  addTokens(keyId: string, tokens: number, now: number): void {
    if (!(tokens > 0)) return;
    try {
      this.link.send({ gw: 'tokens', keyId, tokens, now });
    } catch (err) {
      this.onError(err);
    }
  }

  async close(): Promise<void> {
    this.unsubscribe();
    for (const [seq, w] of this.waiting) {
      clearTimeout(w.timer);
      w.resolve({ ok: true });
      this.waiting.delete(seq);
    }
  }
}

/**
 * A target (provider + model) with 3 consecutive retryable failures is skipped for 30 s; a
 * success resets its count (SPEC §2). In memory, per process.
 */
export interface CooldownOptions {
  threshold: number;
  cooldownMs: number;
  now: () => number;
}

interface State {
  failures: number;
  until: number;
}

export class CooldownTracker {
  private readonly state = new Map<string, State>();
  private readonly opts: CooldownOptions;

  constructor(opts: Partial<CooldownOptions> = {}) {
    this.opts = { threshold: 3, cooldownMs: 30_000, now: Date.now, ...opts };
  }

  static key(provider: string, model: string): string {
    return `${provider}\u0000${model}`;
  }

  isCoolingDown(key: string): boolean {
    const s = this.state.get(key);
    return s !== undefined && s.until > this.opts.now();
  }

  recordFailure(key: string): void {
    const s = this.state.get(key) ?? { failures: 0, until: 0 };
    s.failures += 1;
    if (s.failures >= this.opts.threshold) {
      s.until = this.opts.now() + this.opts.cooldownMs;
      s.failures = 0;
    }
    this.state.set(key, s);
  }

  recordSuccess(key: string): void {
    if (this.state.size > 0) this.state.delete(key);
  }
}

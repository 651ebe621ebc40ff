/**
 * Calls over the last `window_s` seconds in a ring of time slots (at most 60, each at least 1 s
 * wide): adding a call is O(1) — a slot's counters and one latency-histogram bucket — and reading
 * the error rate or p95 walks the ring. The p95 is read from log-spaced buckets 5 % apart, so it
 * is the bucket's upper bound: at most 5 % above the true value.
 */
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = 420; // 1.05^419 ms ≈ 7.6e8 ms: beyond any timeout

function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms) / LOG_GROWTH));
}

/** Upper bound (ms) of a bucket. */
function upperOf(bucket: number): number {
  return bucket === 0 ? 1 : GROWTH ** bucket;
}

interface Slot {
  epoch: number;
  total: number;
  errors: number;
  latency: Uint32Array | null;
}

export interface WindowReading {
  calls: number;
  errorRate: number;
  p95Ms: number;
}

export class RollingWindow {
  private readonly slotMs: number;
  private readonly slots: Slot[];

  constructor(
    windowS: number,
    private readonly withLatency: boolean,
  ) {
    const windowMs = Math.max(1, windowS) * 1000;
    this.slotMs = Math.max(1000, Math.ceil(windowMs / 60));
    const count = Math.ceil(windowMs / this.slotMs);
    this.slots = Array.from({ length: count }, () => ({
      epoch: -1,
      total: 0,
      errors: 0,
      latency: withLatency ? new Uint32Array(BUCKETS) : null,
    }));
  }

  add(nowMs: number, error: boolean, latencyMs: number): void {
    const epoch = Math.floor(nowMs / this.slotMs);
    const slot = this.slots[epoch % this.slots.length] as Slot;
    if (slot.epoch !== epoch) {
      slot.epoch = epoch;
      slot.total = 0;
      slot.errors = 0;
      slot.latency?.fill(0);
    }
    slot.total++;
    if (error) slot.errors++;
    if (slot.latency) {
      const b = bucketOf(latencyMs);
      slot.latency[b] = (slot.latency[b] as number) + 1;
    }
  }

  read(nowMs: number): WindowReading {
    const current = Math.floor(nowMs / this.slotMs);
    const oldest = current - this.slots.length + 1;
    let calls = 0;
    let errors = 0;
    const live: Slot[] = [];
    for (const s of this.slots) {
      if (s.epoch < oldest || s.epoch > current) continue;
      calls += s.total;
      errors += s.errors;
      live.push(s);
    }
    return {
      calls,
      errorRate: calls === 0 ? 0 : errors / calls,
      p95Ms: this.withLatency ? p95(live, calls) : 0,
    };
  }
}

function p95(slots: Slot[], calls: number): number {
  if (calls === 0) return 0;
  const rank = Math.ceil(calls * 0.95);
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    for (const s of slots) seen += (s.latency as Uint32Array)[b] as number;
    if (seen >= rank) return Math.round(upperOf(b) * 1000) / 1000;
  }
  return upperOf(BUCKETS - 1);
}

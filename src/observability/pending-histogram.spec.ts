import { Histogram, Registry } from 'prom-client';
import { PendingHistogram } from './metrics';

const BUCKETS = [0.005, 0.01, 0.1, 1, 10];

/** The same observations through prom-client's own observe and through PendingHistogram. */
async function both(values: number[], scrapes: number[] = []): Promise<[string, string]> {
  const direct = new Registry();
  const h1 = new Histogram({ name: 'h', help: 'h', buckets: BUCKETS, registers: [direct] });
  const batched = new Registry();
  const pending = new PendingHistogram(BUCKETS);
  const h2: Histogram = new Histogram({
    name: 'h',
    help: 'h',
    buckets: BUCKETS,
    registers: [batched],
    collect: () => pending.flushInto(h2),
  });
  for (const [i, v] of values.entries()) {
    h1.observe(v);
    pending.observe(v);
    if (scrapes.includes(i)) await batched.metrics();
  }
  return [await direct.metrics(), await batched.metrics()];
}

describe('PendingHistogram', () => {
  it('scrapes exactly as prom-client observing each value', async () => {
    const values = [0.001, 0.005, 0.0051, 0.05, 0.5, 1, 3, 10, 11, 250, 0.2, 0.2];
    const [a, b] = await both(values);
    expect(b).toBe(a);
    expect(b).toContain('h_bucket{le="0.005"} 2');
    expect(b).toContain('h_bucket{le="+Inf"} 12');
    expect(b).toContain('h_count 12');
  });

  it('keeps counting across scrapes', async () => {
    const values = Array.from({ length: 50 }, (_, i) => (i % 7) / 3);
    const [a, b] = await both(values, [3, 20, 21, 40]);
    expect(b).toBe(a);
  });

  it('ignores values that are not finite numbers', async () => {
    const pending = new PendingHistogram(BUCKETS);
    const r = new Registry();
    const h: Histogram = new Histogram({
      name: 'h',
      help: 'h',
      buckets: BUCKETS,
      registers: [r],
      collect: () => pending.flushInto(h),
    });
    pending.observe(Number.NaN);
    pending.observe(Infinity);
    pending.observe(0.02);
    const text = await r.metrics();
    expect(text).toContain('h_count 1');
    expect(text).toContain('h_sum 0.02');
  });
});

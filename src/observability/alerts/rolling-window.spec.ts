import { RollingWindow } from './rolling-window';

describe('RollingWindow', () => {
  it('counts calls and errors within the window only', () => {
    const w = new RollingWindow(10, false);
    const t0 = 1_000_000;
    for (let i = 0; i < 8; i++) w.add(t0 + i * 100, false, 10);
    w.add(t0 + 900, true, 10);
    w.add(t0 + 950, true, 10);
    expect(w.read(t0 + 1000)).toMatchObject({ calls: 10, errorRate: 0.2 });
    expect(w.read(t0 + 9_500).calls).toBe(10);
    expect(w.read(t0 + 11_000)).toMatchObject({ calls: 0, errorRate: 0 });
  });

  it('reads p95 within 5 % above the true value', () => {
    const w = new RollingWindow(60, true);
    const t0 = 5_000_000;
    for (let i = 1; i <= 1000; i++) w.add(t0 + i, false, i); // 1..1000 ms: true p95 is 950
    const p95 = w.read(t0 + 2000).p95Ms;
    expect(p95).toBeGreaterThanOrEqual(950);
    expect(p95).toBeLessThanOrEqual(950 * 1.05);
    expect(new RollingWindow(5, true).read(t0).p95Ms).toBe(0);
  });

  it('uses at most 60 slots for a long window, slots reused as time goes on', () => {
    const w = new RollingWindow(3600, false);
    const t0 = 10_000_000;
    w.add(t0, true, 1);
    expect(w.read(t0 + 3_500_000).calls).toBe(1);
    w.add(t0 + 3_660_000, false, 1); // the first slot has expired and may be reused
    expect(w.read(t0 + 3_660_000)).toMatchObject({ calls: 1, errorRate: 0 });
  });
});

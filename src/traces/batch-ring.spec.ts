import { BatchRing } from './batch-ring';

describe('BatchRing', () => {
  it('hands out regions one after another, wraps around when the oldest are freed, refuses when full', () => {
    const ring = new BatchRing(100);
    const a = ring.reserve(40);
    const b = ring.reserve(40);
    expect(a?.byteOffset).toBe(0);
    expect(b?.byteOffset).toBe(40);
    expect(ring.reserve(30)).toBeNull(); // 20 left at the end, nothing free at the start
    ring.releaseOldest(); // a
    const c = ring.reserve(30); // wraps: 0..30
    expect(c?.byteOffset).toBe(0);
    expect(ring.reserve(20)).toBeNull(); // 30..40 is all that is free before b
    expect(ring.reserve(10)?.byteOffset).toBe(30);
    ring.releaseOldest(); // b: the run is unbroken again, 40..100 free
    expect(ring.reserve(60)?.byteOffset).toBe(40);
    expect(ring.used()).toBe(100);
    for (let i = 0; i < 3; i++) ring.releaseOldest();
    expect(ring.used()).toBe(0);
    expect(ring.reserve(100)?.byteOffset).toBe(0);
    expect(ring.reserve(0)).toBeNull();
    expect(new BatchRing(10).reserve(11)).toBeNull();
  });

  it('never hands out bytes still in use (random sizes, freed oldest first)', () => {
    const ring = new BatchRing(1000);
    const live: Array<{ at: number; size: number; fill: number }> = [];
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const bytes = new Uint8Array(ring.buffer);
    for (let step = 0; step < 20_000; step++) {
      if (live.length > 0 && rnd() < 0.45) {
        const gone = live.shift()!;
        // Nothing wrote over it while it was in use.
        expect(bytes.subarray(gone.at, gone.at + gone.size).every((v) => v === gone.fill)).toBe(true);
        ring.releaseOldest();
        continue;
      }
      const size = 1 + Math.floor(rnd() * 300);
      const region = ring.reserve(size);
      if (!region) continue;
      const fill = step % 251;
      region.fill(fill);
      live.push({ at: region.byteOffset, size, fill });
      expect(ring.used()).toBe(live.reduce((n, r) => n + r.size, 0));
    }
  });

  it('regions are views of the shared buffer', () => {
    const ring = new BatchRing(64);
    const r = ring.reserve(8)!;
    r.write('abcdefgh');
    expect(Buffer.from(ring.buffer, 0, 8).toString()).toBe('abcdefgh');
    expect(r.buffer).toBe(ring.buffer);
  });
});

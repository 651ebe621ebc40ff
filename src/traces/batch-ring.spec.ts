import { BatchRing, BatchRings, touchPages } from './batch-ring';
import { ALIGN } from './trace-wire';

const aligned = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

describe('BatchRing', () => {
  it('hands out regions one after another, wraps around when the oldest are freed, refuses when full', () => {
    const ring = new BatchRing(104);
    const a = ring.reserve(40);
    const b = ring.reserve(40);
    expect(a?.byteOffset).toBe(0);
    expect(b?.byteOffset).toBe(40);
    expect(ring.reserve(30)).toBeNull(); // 24 left at the end, nothing free at the start
    ring.releaseOldest(); // a
    const c = ring.reserve(30); // wraps: 0..32
    expect(c?.byteOffset).toBe(0);
    expect(c?.length).toBe(30);
    expect(ring.reserve(9)).toBeNull(); // 32..40 is all that is free before b
    expect(ring.reserve(8)?.byteOffset).toBe(32);
    ring.releaseOldest(); // b: the run is unbroken again, 40..104 free
    expect(ring.reserve(64)?.byteOffset).toBe(40);
    expect(ring.used()).toBe(104);
    for (let i = 0; i < 3; i++) ring.releaseOldest();
    expect(ring.used()).toBe(0);
    expect(ring.reserve(104)?.byteOffset).toBe(0);
    expect(ring.reserve(0)).toBeNull();
    expect(new BatchRing(16).reserve(17)).toBeNull();
  });

  it('starts every region at a multiple of ALIGN, sized as asked', () => {
    const ring = new BatchRing(64);
    const a = ring.reserve(3)!;
    const b = ring.reserve(5)!;
    expect([a.byteOffset, a.length, b.byteOffset, b.length]).toEqual([0, 3, ALIGN, 5]);
    expect(ring.used()).toBe(2 * ALIGN);
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
      expect(region.byteOffset % ALIGN).toBe(0);
      live.push({ at: region.byteOffset, size, fill });
      expect(ring.used()).toBe(live.reduce((n, r) => n + aligned(r.size), 0));
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

describe('BatchRings', () => {
  it('adds a ring when the ones it has are full, up to maxBytes; lets an extra ring go once it has been empty a while', () => {
    let now = 1000;
    const rings = new BatchRings(100, 300, 50, () => now);
    const a = rings.reserve(60)!;
    const b = rings.reserve(60)!; // does not fit beside a: a second ring
    expect(b.buffer).not.toBe(a.buffer);
    const c = rings.reserve(30)!; // fits in the first ring, after a
    expect(c.buffer).toBe(a.buffer);
    expect(c.byteOffset).toBe(64);
    const d = rings.reserve(90)!; // a third ring
    expect(rings.stats()).toEqual({ rings: 3, used: 256, spare: false });
    expect(rings.reserve(90)).toBeNull(); // a fourth would pass maxBytes
    expect(rings.reserve(101)).toBeNull(); // larger than a ring
    expect([a, b, c, d].every((x) => rings.owns(x))).toBe(true);
    expect(rings.owns(Buffer.alloc(4))).toBe(false);
    // Stored in the order sent: a, b, c, d.
    rings.release(a);
    rings.release(b); // the second ring is empty: kept for now
    expect(rings.stats()).toEqual({ rings: 3, used: 128, spare: false });
    now += 10;
    const e = rings.reserve(70)!; // into the empty second ring: in use again
    expect(e.buffer).toBe(b.buffer);
    now += 100;
    rings.release(c);
    expect(rings.stats()).toEqual({ rings: 3, used: 168, spare: false });
    rings.release(d); // the third ring is empty
    now += 49;
    rings.release(e); // the second is empty; the third only 49 ms
    expect(rings.stats()).toEqual({ rings: 3, used: 0, spare: false });
    now += 1;
    const f = rings.reserve(10)!; // the first ring has room
    expect(f.buffer).toBe(a.buffer);
    rings.release(f); // now the third has been empty 50 ms: let go; the second only 1 ms
    expect(rings.stats()).toEqual({ rings: 2, used: 0, spare: false });
    expect(rings.owns(d)).toBe(false);
    expect(rings.owns(e)).toBe(true);
    now += 50;
    rings.release(rings.reserve(10)!);
    expect(rings.stats()).toEqual({ rings: 1, used: 0, spare: false }); // the first ring stays
    expect(rings.reserve(96)?.buffer).toBe(a.buffer); // the most a ring of 100 holds in one region
  });

  it('never hands out bytes still in use across its rings (random sizes, freed in the order reserved)', () => {
    const rings = new BatchRings(1000, 4000, 0);
    const live: Array<{ region: Buffer; fill: number }> = [];
    let seed = 11;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let refused = 0;
    for (let step = 0; step < 20_000; step++) {
      if (live.length > 0 && rnd() < 0.4) {
        const gone = live.shift()!;
        expect(gone.region.every((v) => v === gone.fill)).toBe(true);
        rings.release(gone.region);
        continue;
      }
      const region = rings.reserve(1 + Math.floor(rnd() * 400));
      if (!region) {
        refused++;
        continue;
      }
      const fill = step % 251;
      region.fill(fill);
      live.push({ region, fill });
      const { rings: n, used } = rings.stats();
      expect(n).toBeLessThanOrEqual(4);
      expect(used).toBe(live.reduce((s, r) => s + aligned(r.region.length), 0));
    }
    expect(refused).toBeGreaterThan(0); // the bound was reached at times
    while (live.length > 0) rings.release(live.shift()!.region);
    expect(rings.stats()).toEqual({ rings: 1, used: 0, spare: false });
  });

  it('makes the next ring ahead of need once the rings in use are more than half full, hands it to prepare, takes it into use next', () => {
    let now = 1000;
    const prepared: SharedArrayBuffer[] = [];
    const rings = new BatchRings(100, 300, 50, () => now, (b) => prepared.push(b));
    const a = rings.reserve(48)!; // 48 of 100: not over half
    expect(prepared).toHaveLength(0);
    const b = rings.reserve(8)!; // 56 of 100: a spare is made and handed over
    expect(b.buffer).toBe(a.buffer);
    expect(prepared).toHaveLength(1);
    expect(rings.stats()).toEqual({ rings: 1, used: 56, spare: true });
    rings.reserve(8); // 64 of 100: one spare at a time
    expect(prepared).toHaveLength(1);
    const c = rings.reserve(40)!; // 36 left in the first ring: the spare (already prepared) is taken
    expect(c.buffer).toBe(prepared[0]);
    // 104 of 200: over half again, and a third ring stays under maxBytes: the next spare
    expect(rings.stats()).toEqual({ rings: 2, used: 104, spare: true });
    expect(prepared).toHaveLength(2);
    const d = rings.reserve(80)!; // fits in neither ring (36 and 60 left): the second spare
    expect(d.buffer).toBe(prepared[1]);
    // 184 of 300, but a fourth ring would pass maxBytes: no spare
    expect(rings.stats()).toEqual({ rings: 3, used: 184, spare: false });
    expect(prepared).toHaveLength(2);
    expect(rings.reserve(90)).toBeNull();
    // A spare that was not needed is let go once it is idleMs old and the rings are not over half full.
    const held = new BatchRings(100, 300, 50, () => now, (x) => prepared.push(x));
    const e = held.reserve(60)!;
    expect(held.stats().spare).toBe(true);
    now += 50;
    held.release(e); // empty and the spare 50 ms old: let go
    expect(held.stats()).toEqual({ rings: 1, used: 0, spare: false });
  });

  it('warm() makes the first ring before any batch and has it prepared; the first batch goes into it', () => {
    const prepared: SharedArrayBuffer[] = [];
    const rings = new BatchRings(100, 300, 50, Date.now, (b) => prepared.push(b));
    rings.warm();
    rings.warm();
    expect(prepared).toHaveLength(1);
    expect(rings.stats()).toEqual({ rings: 0, used: 0, spare: true });
    expect(rings.reserve(10)?.buffer).toBe(prepared[0]);
    expect(rings.stats()).toEqual({ rings: 1, used: 16, spare: false });
  });

  it('a prepare that throws leaves the spare as any new ring', () => {
    const rings = new BatchRings(100, 300, 50, Date.now, () => {
      throw new Error('no worker');
    });
    rings.reserve(60);
    expect(rings.stats().spare).toBe(true);
    expect(rings.reserve(60)).not.toBeNull();
  });

  it('with spares, never hands out bytes still in use and never holds more than maxBytes (random sizes)', () => {
    let now = 0;
    let prepared = 0;
    const rings = new BatchRings(1000, 4000, 5, () => now, (b) => {
      touchPages(b);
      prepared++;
    });
    const live: Array<{ region: Buffer; fill: number }> = [];
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let step = 0; step < 20_000; step++) {
      now++;
      if (live.length > 0 && rnd() < 0.45) {
        const gone = live.shift()!;
        expect(gone.region.every((v) => v === gone.fill)).toBe(true);
        rings.release(gone.region);
        continue;
      }
      const region = rings.reserve(1 + Math.floor(rnd() * 400));
      if (!region) continue;
      const fill = step % 251;
      region.fill(fill);
      live.push({ region, fill });
      const { rings: n, used, spare } = rings.stats();
      expect((n + (spare ? 1 : 0)) * 1000).toBeLessThanOrEqual(4000);
      expect(used).toBe(live.reduce((s, r) => s + aligned(r.region.length), 0));
    }
    expect(prepared).toBeGreaterThan(1);
  });
});

describe('touchPages', () => {
  it('writes to every page without changing a byte', () => {
    const sab = new SharedArrayBuffer(5 * 4096 + 100);
    const bytes = new Uint8Array(sab);
    for (let i = 0; i < bytes.length; i += 3) bytes[i] = (i * 7) % 256;
    const before = Buffer.from(bytes);
    touchPages(sab);
    expect(Buffer.from(bytes).equals(before)).toBe(true);
    touchPages(new SharedArrayBuffer(0));
    touchPages(new SharedArrayBuffer(3));
  });
});

import { newTraceId } from './trace-id';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newTraceId', () => {
  it('is a UUID version 7 with the RFC 9562 variant', () => {
    for (let i = 0; i < 1000; i++) expect(newTraceId()).toMatch(V7);
  });

  it('starts with the 48-bit Unix millisecond timestamp', () => {
    const ms = Date.parse('2026-12-01T10:00:00.123Z');
    const id = newTraceId(ms);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(ms);
    expect(newTraceId(0).startsWith('00000000-0000-7')).toBe(true);
    expect(
      parseInt(
        newTraceId(2 ** 48 - 1)
          .replace(/-/g, '')
          .slice(0, 12),
        16,
      ),
    ).toBe(2 ** 48 - 1);
  });

  it('sorts by time across milliseconds and stays unique within one', () => {
    const t = Date.now();
    const ids = Array.from({ length: 2000 }, (_, i) => newTraceId(t + Math.floor(i / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 100; i < ids.length; i += 100) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });
});

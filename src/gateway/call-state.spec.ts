import { millis3 } from './call-state';

describe('millis3', () => {
  it('writes milliseconds with three decimals as toFixed(3) does', () => {
    const values = [0, 0.0004, 0.001, 0.0099, 0.01, 0.099, 0.1, 0.5, 1, 12.3456, 999.9994, 60_000.123];
    // A fixed pseudo-random spread over six orders of magnitude (no flakes from Math.random).
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      values.push((x / 2 ** 31) * 10 ** (i % 6));
    }
    const differ = values.filter((v) => millis3(v) !== v.toFixed(3));
    // Halfway cases may round the other way (the product ms × 1000 is itself rounded); never more
    // than one in the last digit.
    for (const v of differ) expect(Math.abs(Number(millis3(v)) - Number(v.toFixed(3)))).toBeLessThan(0.0011);
    expect(differ.length).toBeLessThan(values.length / 1000);
    expect(millis3(0)).toBe('0.000');
    expect(millis3(0.0123)).toBe('0.012');
    expect(millis3(7.5)).toBe('7.500');
    expect(millis3(1234.0456)).toBe('1234.046');
  });
});

/**
 * Trace ids: UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids of
 * one period sort together, so every index keyed by a trace id (the traces' primary key, the
 * bodies' key, a new session's key) grows at its right edge instead of taking random inserts.
 */
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL_IDS = 256;
/** Ten random bytes per id, refilled a pool at a time. */
const pool = Buffer.allocUnsafe(POOL_IDS * 10);
let next = POOL_IDS;

function hex(b: number | undefined): string {
  return HEX[(b ?? 0) & 0xff] as string;
}

/** A new UUIDv7 string; `now` (epoch ms) is for tests. */
export function newTraceId(now = Date.now()): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const r = next++ * 10;
  const ms = Math.max(0, Math.floor(now));
  const hi = Math.floor(ms / 0x1000000); // upper 24 bits of the 48
  const lo = ms % 0x1000000;
  return (
    hex(hi >>> 16) +
    hex(hi >>> 8) +
    hex(hi) +
    hex(lo >>> 16) +
    '-' +
    hex(lo >>> 8) +
    hex(lo) +
    '-' +
    hex(0x70 | ((pool[r] ?? 0) & 0x0f)) +
    hex(pool[r + 1]) +
    '-' +
    hex(0x80 | ((pool[r + 2] ?? 0) & 0x3f)) +
    hex(pool[r + 3]) +
    '-' +
    hex(pool[r + 4]) +
    hex(pool[r + 5]) +
    hex(pool[r + 6]) +
    hex(pool[r + 7]) +
    hex(pool[r + 8]) +
    hex(pool[r + 9])
  );
}

/** Helpers over a trace record. */
import type { Attempt, TraceRecord } from './types';

export function attemptsOf(r: TraceRecord): Attempt[] {
  if (!Array.isArray(r.attempts)) return [];
  return r.attempts.map((a): Attempt => {
    const o = typeof a === 'object' && a !== null ? (a as Record<string, unknown>) : {};
    return {
      provider: typeof o.provider === 'string' ? o.provider : null,
      model: typeof o.model === 'string' ? o.model : null,
      status: typeof o.status === 'number' ? o.status : null,
      error: typeof o.error === 'string' ? o.error : null,
      latency_ms: typeof o.latency_ms === 'number' ? o.latency_ms : null,
    };
  });
}

/** Polls for a record that may not be stored yet (traces are written within 2 s of a call). */
export async function waitForRecord(
  load: (id: string) => Promise<TraceRecord>,
  id: string,
  timeoutMs = 5000,
): Promise<TraceRecord> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await load(id);
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

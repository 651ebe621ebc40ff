/**
 * Size of the reliability runs: `RELIABILITY_SCALE=full` (npm run test:reliability) runs the
 * figures the README states; anything else (npm test) runs a short form of every check.
 */
export const FULL = process.env.RELIABILITY_SCALE === 'full';

/** The short or the full figure. */
export function scale<T>(short: T, full: T): T {
  return FULL ? full : short;
}

/** Runs `task` over `items` with at most `limit` at a time; results in input order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Reads one counter/gauge value from Prometheus text (sum over label sets when `labels` is omitted). */
export function metricValue(text: string, name: string, labels?: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (labels) {
      const set = m[2] ?? '';
      if (!Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) continue;
    }
    sum += Number(m[3]);
  }
  return sum;
}

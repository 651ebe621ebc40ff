/**
 * UI bench: first meaningful paint of /ui on localhost, with UI_BENCH_N (default 100,000) stored
 * traces. Fills the store through the public ingest API (`POST /api/traces`), then, in Chromium
 * (playwright-core), measures from navigation to the first rows of the call list, first
 * contentful paint, the next page loaded by scrolling, and frame times while scrolling the list.
 *
 *   node -r ts-node/register/transpile-only bench/ui.ts
 */
import { performance } from 'node:perf_hooks';
import { ensureUiBuilt, launchChromium } from '../test/support/browser';
import { startGateway } from '../test/support/gateway-harness';

const N = Number(process.env.UI_BENCH_N ?? 100_000);
const RUNS = Number(process.env.UI_BENCH_RUNS ?? 10);
const CONCURRENCY = 64;
const MASTER = 'test-master-key-0123456789abcdef';
const CONFIG = `providers:
  mock: { type: mock }
routes:
  - match: { any: true }
    targets: [ { provider: mock } ]
`;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
};
const fmt = (n: number): string => `${n.toFixed(1)} ms`;

async function fill(url: string): Promise<number> {
  const models = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet', 'gemini-2.5-flash', 'deepseek-chat'];
  const statuses = ['success', 'success', 'success', 'success', 'success', 'success', 'success', 'error'];
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < N; i = next++) {
      const body = JSON.stringify({
        request: {
          model: models[i % models.length],
          messages: [{ role: 'user', content: `bench message ${i} about topic ${i % 97}` }],
        },
        response: {
          choices: [
            { index: 0, message: { role: 'assistant', content: `reply ${i}` }, finish_reason: 'stop' },
          ],
        },
        status: statuses[i % statuses.length],
        latency_ms: 50 + (i % 400),
      });
      for (;;) {
        const res = await fetch(`${url}/api/traces`, {
          method: 'POST',
          headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
          body,
        });
        await res.arrayBuffer();
        if (res.status === 201) break;
        if (res.status !== 503) throw new Error(`ingest answered ${res.status}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return performance.now() - t0;
}

async function stored(url: string): Promise<number> {
  // Walk the newest pages until the count reaches N (the writer drains its queue in batches).
  const deadline = Date.now() + 120_000;
  for (;;) {
    const res = await fetch(
      `${url}/api/stats?since=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`,
      {
        headers: { authorization: `Bearer ${MASTER}` },
      },
    );
    const s = (await res.json()) as { totals: { requests: number } };
    if (s.totals.requests >= N || Date.now() > deadline) return s.totals.requests;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<void> {
  ensureUiBuilt();
  const gw = await startGateway(CONFIG);
  try {
    console.log(`filling ${N.toLocaleString('en-US')} traces through POST /api/traces…`);
    const fillMs = await fill(gw.url);
    const count = await stored(gw.url);
    console.log(`stored ${count.toLocaleString('en-US')} traces in ${(fillMs / 1000).toFixed(1)} s`);

    const browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.addInitScript(`sessionStorage.setItem('gateway.masterKey', ${JSON.stringify(MASTER)})`);
    const page = await ctx.newPage();
    // Warm-up (first load of the bundle from disk into the OS cache).
    await page.goto(`${gw.url}/ui/`);
    await page.waitForSelector('[data-testid=call-row]');

    const toRows: number[] = [];
    const fcp: number[] = [];
    const inPage: number[] = [];
    const docEnd: number[] = [];
    const dcl: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // A new context per run: nothing cached from the previous load.
      const runCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await runCtx.addInitScript(`sessionStorage.setItem('gateway.masterKey', ${JSON.stringify(MASTER)})`);
      const fresh = await runCtx.newPage();
      const t0 = performance.now();
      await fresh.goto(`${gw.url}/ui/`, { waitUntil: 'commit' });
      const handle = await fresh.waitForFunction(
        "document.querySelector('[data-testid=call-row]') ? performance.now() : false",
        undefined,
        { polling: 'raf' },
      );
      inPage.push(Number(await handle.jsonValue()));
      toRows.push(performance.now() - t0);
      const nav = await fresh.evaluate<[number, number]>(
        "(() => { const n = performance.getEntriesByType('navigation')[0]; return [n.responseEnd, n.domContentLoadedEventEnd]; })()",
      );
      docEnd.push(nav[0]);
      dcl.push(nav[1]);
      const paint = await fresh.evaluate<number | null>(
        "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null",
      );
      if (paint !== null) fcp.push(paint);
      await runCtx.close();
    }

    // Scroll to the end of the first page: the next page of 200 arrives by cursor.
    const rowsBefore = await page.evaluate<string>("document.querySelector('.vlist-inner').style.height");
    const t1 = performance.now();
    await page.evaluate(
      "(() => { const l = document.querySelector('.vlist'); l.scrollTop = l.scrollHeight; })()",
    );
    await page.waitForFunction(
      `document.querySelector('.vlist-inner').style.height !== ${JSON.stringify(rowsBefore)}`,
    );
    const nextPageMs = performance.now() - t1;

    // Load 10 pages (2,000 rows), then scroll through them measuring frame intervals.
    for (let i = 0; i < 9; i++) {
      const more = await page.evaluate<string>("document.querySelector('.list-foot').textContent");
      if (!more.includes('more')) break;
      const h = await page.evaluate<string>("document.querySelector('.vlist-inner').style.height");
      await page.evaluate(
        "(() => { const l = document.querySelector('.vlist'); l.scrollTop = l.scrollHeight; })()",
      );
      await page.waitForFunction(
        `document.querySelector('.vlist-inner').style.height !== ${JSON.stringify(h)}`,
      );
    }
    const frames = await page.evaluate<number[]>(`new Promise((done) => {
      const l = document.querySelector('.vlist');
      l.scrollTop = 0;
      const times = [];
      let last = performance.now();
      const step = () => {
        const now = performance.now();
        times.push(now - last);
        last = now;
        l.scrollTop += 400;
        if (l.scrollTop + l.clientHeight >= l.scrollHeight - 1 || times.length > 600) done(times.slice(1));
        else requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    })`);
    const domRows = await page.evaluate<number>("document.querySelectorAll('[data-testid=call-row]').length");
    const loaded = await page.evaluate<string>("document.querySelector('.list-foot').textContent");
    await browser.close();

    console.log('');
    console.log(
      `UI bench, ${count.toLocaleString('en-US')} stored traces, ${RUNS} cold page loads (1280×800)`,
    );
    console.log(
      `  navigation → first list rows   p50 ${fmt(pct(inPage, 0.5))}   p95 ${fmt(pct(inPage, 0.95))}  (page clock)`,
    );
    console.log(
      `  goto() → first list rows       p50 ${fmt(pct(toRows, 0.5))}   p95 ${fmt(pct(toRows, 0.95))}  (bench clock, with renderer start)`,
    );
    console.log(`  HTML received / DOM ready      p50 ${fmt(pct(docEnd, 0.5))} / ${fmt(pct(dcl, 0.5))}`);
    if (fcp.length)
      console.log(`  first contentful paint         p50 ${fmt(pct(fcp, 0.5))}   p95 ${fmt(pct(fcp, 0.95))}`);
    console.log(`  next page (200 rows) on scroll ${fmt(nextPageMs)}`);
    console.log(
      `  scrolling ${loaded.trim()}: ${frames.length} frames, frame time p50 ${fmt(pct(frames, 0.5))}  p95 ${fmt(pct(frames, 0.95))}  max ${fmt(Math.max(...frames))}; ${domRows} rows in the DOM`,
    );
  } finally {
    await gw.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * Load: 1,000 concurrent streams through a gateway process (the OpenAI mock upstream), every one
 * complete and traced, and the process's memory back near its baseline afterwards — measured
 * from outside (VmRSS in /proc/<pid>/status) and from its own /metrics (V8 heap used).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { eventually } from '../support/admin-client';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';
import { spawnGateway, type GatewayProcess } from '../support/spawn-gateway';
import { metricValue, scale } from './scale';

const STREAMS = scale(500, 1000);
const WARM = scale(100, 200);
const ROUNDS = scale(1, 3);
const MB = 1024 * 1024;

/** Resident set of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

describe(`${STREAMS} concurrent streams`, () => {
  let upstream: MockOpenAI;
  let gw: GatewayProcess;

  beforeAll(async () => {
    // 500 ms between chunks (400 for 1,000 streams), ~30 chunks: every stream stays open 12-15 s, long
    // enough for all to overlap on a slow machine too (at 300 ms one run reached a peak of 406 of 500).
    upstream = await startMockOpenAI({ byModel: { 'load-model': { chunkDelayMs: scale(500, 400) } } });
    gw = await spawnGateway({
      config: `
providers:
  up: { type: openai, base_url: "${upstream.baseUrl}", api_key: sk-upstream }
routes:
  - match: { any: true }
    targets: [ { provider: up } ]
`,
      env: { LOG_LEVEL: 'warn' },
      nodeArgs: ['--expose-gc', '-r', join(__dirname, 'gc-on-signal.ts')],
    });
  }, 120_000);

  afterAll(async () => {
    if (gw) {
      expect(await gw.stop('SIGTERM', 90_000)).toBe(0);
      gw.cleanup();
    }
    await upstream?.close();
  }, 120_000);

  const metrics = async (): Promise<string> => (await fetch(`${gw.url}/metrics`)).text();

  /** Runs `n` streams at once; returns how many finished with the right text, and the peak of active streams. */
  async function round(n: number, tag: string): Promise<{ ok: number; peak: number; errors: string[] }> {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'caller', maxRetries: 0, timeout: 120_000 });
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, metricValue(await metrics(), 'gateway_active_streams'));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const errors: string[] = [];
    const texts = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const content = `${tag} stream ${i}: a sentence long enough to come back in about thirty small chunks.`;
        try {
          const stream = await client.chat.completions.create({
            model: 'load-model',
            stream: true,
            messages: [{ role: 'user', content }],
          });
          let text = '';
          for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
          return text === `Echo: ${content}`;
        } catch (err) {
          if (errors.length < 5) errors.push(String(err));
          return false;
        }
      }),
    );
    sampling = false;
    await sampler;
    return { ok: texts.filter(Boolean).length, peak, errors };
  }

  /** Memory once the process is idle again: streams closed, trace queue empty, a few seconds of quiet. */
  async function settled(): Promise<{ rss: number; heap: number }> {
    await eventually(
      async () => {
        const m = await metrics();
        return (
          metricValue(m, 'gateway_active_streams') === 0 && metricValue(m, 'gateway_trace_queue_depth') === 0
        );
      },
      60_000,
      200,
    );
    await new Promise((r) => setTimeout(r, 3000));
    // A full GC in the gateway (test/reliability/gc-on-signal.ts), twice, then measure.
    for (let i = 0; i < 2; i++) {
      process.kill(gw.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 1000));
    }
    const heap = metricValue(await metrics(), 'gateway_process_nodejs_heap_size_used_bytes');
    return { rss: rssBytes(gw.pid), heap };
  }

  it(`holds ${STREAMS} concurrent streams ${ROUNDS}× with memory back near the baseline`, async () => {
    // Warm-up (JIT, pools, prepared statements), then the baseline.
    expect((await round(WARM, 'warm')).ok).toBe(WARM);
    const base = await settled();
    const after: Array<{ rss: number; heap: number; peak: number }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      const { ok, peak, errors } = await round(STREAMS, `round ${r}`);
      expect(errors).toEqual([]);
      expect(ok).toBe(STREAMS);
      after.push({ ...(await settled()), peak });
    }
    const traces = metricValue(await metrics(), 'gateway_requests_total');
    const dropped = metricValue(await metrics(), 'gateway_traces_dropped_total');
    const fmt = (b: number): string => `${(b / MB).toFixed(0)} MB`;
    console.log(
      `load: ${ROUNDS} × ${STREAMS} concurrent streams, peak active ${after.map((a) => a.peak).join('/')}; ` +
        `RSS ${fmt(base.rss)} → ${after.map((a) => fmt(a.rss)).join(' → ')}; ` +
        `heap used ${fmt(base.heap)} → ${after.map((a) => fmt(a.heap)).join(' → ')}; requests ${traces}, traces dropped ${dropped}`,
    );
    // Every stream overlapped with (almost) every other one.
    for (const a of after) expect(a.peak).toBeGreaterThanOrEqual(STREAMS * 0.9);
    const last = after[after.length - 1] as { rss: number; heap: number };
    // Heap back near the baseline; RSS bounded (V8 keeps some pages it grew into).
    expect(last.heap).toBeLessThan(base.heap + 40 * MB);
    expect(last.rss).toBeLessThan(base.rss + 200 * MB);
    // No growth from one round to the next (a leak would add per round).
    if (after.length > 1) expect(last.rss - (after[0] as { rss: number }).rss).toBeLessThan(48 * MB);
    expect(dropped).toBe(0);
    // Every stream is traced (the SQLite file is read beside the running gateway; WAL allows it).
    const db = new Database(join(gw.dir, 'gateway.db'), { readonly: true });
    try {
      const row = db
        .prepare("SELECT COUNT(*) AS n FROM traces WHERE model = 'load-model' AND status = 'success'")
        .get() as {
        n: number;
      };
      expect(row.n).toBe(WARM + ROUNDS * STREAMS);
    } finally {
      db.close();
    }
  }, 600_000);
});

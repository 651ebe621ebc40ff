/**
 * SIGTERM with 50 streams in flight: every stream finishes, every trace is flushed to the
 * database, the process exits 0 (SPEC §1).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';
import { spawnGateway, type GatewayProcess } from '../support/spawn-gateway';

const STREAMS = 50;

describe('graceful shutdown', () => {
  let upstream: MockOpenAI;
  let gw: GatewayProcess;

  beforeAll(async () => {
    // ~20 chunks 100 ms apart: each stream lasts about 2 s, so all are mid-stream at SIGTERM.
    upstream = await startMockOpenAI({ byModel: { slow: { chunkDelayMs: 100 } } });
    gw = await spawnGateway({
      config: `providers:\n  up: { type: openai, base_url: "${upstream.baseUrl}", api_key: sk-up }\nroutes:\n  - match: { any: true }\n    targets: [ { provider: up } ]\n`,
    });
  }, 120_000);

  afterAll(async () => {
    await gw.stop('SIGKILL');
    gw.cleanup();
    await upstream.close();
  });

  it(`finishes ${STREAMS} in-flight streams, flushes their traces and exits 0`, async () => {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'x', maxRetries: 0, timeout: 60_000 });
    let started = 0;
    let allStarted!: () => void;
    const startedAll = new Promise<void>((r) => (allStarted = r));
    const calls = Array.from({ length: STREAMS }, async (_, i) => {
      const stream = await client.chat.completions.create({
        model: 'slow',
        stream: true,
        messages: [{ role: 'user', content: `call number ${i} of the shutdown run` }],
      });
      let text = '';
      let first = true;
      for await (const c of stream) {
        text += c.choices[0]?.delta.content ?? '';
        if (first && text.length > 0) {
          first = false;
          if (++started === STREAMS) allStarted();
        }
      }
      return text;
    });
    // Bounded: if not every stream has begun within 60 s, the check below fails with the count.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([startedAll, new Promise((r) => (timer = setTimeout(r, 60_000)))]);
    clearTimeout(timer);
    expect(started).toBe(STREAMS);
    const code = gw.stop('SIGTERM', 60_000);
    const texts = await Promise.all(calls);
    expect(texts).toEqual(
      Array.from({ length: STREAMS }, (_, i) => `Echo: call number ${i} of the shutdown run`),
    );
    expect(await code).toBe(0);
    expect(gw.stdout()).toContain('stopping: finishing in-flight requests and flushing traces');

    const db = new Database(join(gw.dir, 'gateway.db'), { readonly: true });
    const rows = db
      .prepare("SELECT status, COUNT(*) AS n FROM traces WHERE model = 'slow' GROUP BY status")
      .all() as Array<{ status: string; n: number }>;
    db.close();
    expect(rows).toEqual([{ status: 'success', n: STREAMS }]);
  }, 180_000);
});

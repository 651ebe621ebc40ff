/**
 * PostgreSQL down for 10 s under load (issue: "proxying continues; after recovery every trace is
 * there, or the drop counter says exactly how many were dropped"). The machine's PostgreSQL is
 * shared, so it is not stopped: a loopback TCP proxy sits between the gateway and it and is cut
 * (open connections dropped, new ones refused) for 10 s while calls keep coming.
 */
import OpenAI from 'openai';
import { Client } from 'pg';
import { createKey, eventually } from '../support/admin-client';
import { httpStatus, spawnGateway, type GatewayProcess } from '../support/spawn-gateway';
import {
  createTempPostgres,
  PG_ADMIN_URL,
  reachable,
  warnSkipped,
  type TempPostgres,
} from '../support/temp-postgres';
import { metricValue, scale } from './scale';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

const OUTAGE_MS = 10_000;

describe('PostgreSQL down for 10 s under load', () => {
  let up = false;
  let pg: TempPostgres;
  let proxy: TcpProxy;
  let gw: GatewayProcess;

  beforeAll(async () => {
    up = await reachable(PG_ADMIN_URL);
    if (!up) {
      warnSkipped('PostgreSQL outage', PG_ADMIN_URL);
      return;
    }
    pg = await createTempPostgres('outage');
    const direct = new URL(pg.url);
    proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
    const viaProxy = new URL(pg.url);
    viaProxy.port = String(proxy.port);
    gw = await spawnGateway({
      config: `
providers:
  mock: { type: mock }
routes:
  - match: { any: true }
    targets: [ { provider: mock } ]
`,
      env: { DATABASE_URL: viaProxy.toString(), LOG_LEVEL: 'warn' },
    });
  }, 180_000);

  afterAll(async () => {
    if (!up) return;
    if (gw) {
      await gw.stop('SIGKILL');
      gw.cleanup();
    }
    await proxy?.close();
    await pg?.drop();
  }, 60_000);

  it('calls keep succeeding during the outage; afterwards every trace is stored or counted as dropped', async () => {
    if (!up) return;
    const { key } = await createKey(gw.url, gw.masterKey, { name: 'outage' });
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0, timeout: 30_000 });
    const lanes = scale(8, 32);
    const ids: string[] = [];
    const failures: string[] = [];
    let phase: 'before' | 'down' | 'after' = 'before';
    const during = { before: 0, down: 0, after: 0 };
    let running = true;
    const lane = async (n: number): Promise<void> => {
      for (let i = 0; running; i++) {
        try {
          const stream = i % 2 === 0;
          const content = `lane ${n} call ${i}`;
          if (stream) {
            const { data, response } = await client.chat.completions
              .create({ model: 'outage-model', stream: true, messages: [{ role: 'user', content }] })
              .withResponse();
            let text = '';
            for await (const c of data) text += c.choices[0]?.delta.content ?? '';
            if (text !== content) throw new Error(`stream said ${text}`);
            ids.push(response.headers.get('x-gateway-trace-id') ?? '');
          } else {
            const { data, response } = await client.chat.completions
              .create({ model: 'outage-model', messages: [{ role: 'user', content }] })
              .withResponse();
            if (data.choices[0]?.message.content !== content) throw new Error('wrong reply');
            ids.push(response.headers.get('x-gateway-trace-id') ?? '');
          }
          during[phase]++;
        } catch (err) {
          failures.push(`${phase}: ${String(err)}`);
        }
      }
    };
    const load = Promise.all(Array.from({ length: lanes }, (_, n) => lane(n)));
    await new Promise((r) => setTimeout(r, 3000));

    await proxy.cut();
    phase = 'down';
    const cutAt = Date.now();
    // The gateway notices: /ready turns 503 while the database does not answer.
    const notReady = await eventually(
      async () => (await httpStatus(`${gw.url}/ready`, 5000)) === 503,
      OUTAGE_MS - 1000,
      200,
    );
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
    await proxy.restore();
    phase = 'after';
    await new Promise((r) => setTimeout(r, 3000));
    running = false;
    await load;

    expect(failures).toEqual([]);
    expect(notReady).toBe(true);
    expect(during.down).toBeGreaterThan(0);
    expect(ids.every((id) => id !== '')).toBe(true);
    expect(await eventually(async () => (await httpStatus(`${gw.url}/ready`)) === 200, 30_000, 200)).toBe(
      true,
    );

    // After recovery: stored + dropped = every call, and what is stored is exactly the calls' traces.
    const direct = new Client({ connectionString: pg.url });
    await direct.connect();
    let stored = new Set<string>();
    let dropped = -1;
    try {
      await eventually(
        async () => {
          const rows = await direct.query<{ id: string }>(
            "SELECT id FROM traces WHERE model = 'outage-model'",
          );
          stored = new Set(rows.rows.map((r) => r.id));
          dropped = metricValue(
            await (await fetch(`${gw.url}/metrics`)).text(),
            'gateway_traces_dropped_total',
          );
          return stored.size + dropped >= ids.length;
        },
        60_000,
        250,
      );
    } finally {
      await direct.end();
    }
    const missing = ids.filter((id) => !stored.has(id));
    const lost = missing.length - dropped;
    console.log(
      `postgres outage: ${ids.length} calls (${during.before} before, ${during.down} during the ${OUTAGE_MS / 1000} s cut, ${during.after} after), ` +
        `${stored.size} traces stored, ${dropped} dropped by the bounded queue, lost ${lost}`,
    );
    expect(lost).toBe(0);
    expect(missing).toHaveLength(dropped);
    // Key usage counted while the database was away reaches it too (usage is written in batches).
    const keyed = new Client({ connectionString: pg.url });
    await keyed.connect();
    try {
      const written = await eventually(
        async () => {
          const r = await keyed.query<{ n: string }>(
            'SELECT usage_requests AS n FROM client_keys WHERE name = $1',
            ['outage'],
          );
          return Number(r.rows[0]?.n ?? -1) === ids.length;
        },
        30_000,
        250,
      );
      expect(written).toBe(true);
    } finally {
      await keyed.end();
    }
    expect(gw.child.exitCode).toBeNull();
  }, 180_000);
});

/**
 * npm run bench — every speed target measured against a reference in the same run:
 *   proxy     the gateway against the platform floor (raw node:http + undici), interleaved
 *   auth      client-key checks on against off
 *   adapters  conversion cost per adapter over the openai pass-through (bench/adapters.ts)
 *   traces    traces ON against OFF, under search load, and the writer alone (bench/traces.ts)
 * Processes: bench upstream and load generator pinned to core 0; each proxy under test pinned to
 * core 1 (all its threads). `BENCH_ONLY=proxy,auth` picks sections. Besides throughput and
 * latency, the CPU each proxy spent per request (from /proc) is shown: it is what bounds
 * throughput once the proxy's core is saturated, and it moves far less than RPS on a busy machine.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadResult } from './load';
import {
  BENCH_BODIES,
  benchConfigYaml,
  fmt,
  GATEWAY_NODE_ARGS,
  freePort,
  measured,
  median,
  pairedRatio,
  pin,
  ROOT,
  startServer,
  stopAll,
  table,
  TS_NODE,
} from './support';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,10,100').split(',').map(Number);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 4000);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'proxy,auth,adapters,traces').split(','));
const MASTER_KEY = 'bench-master-key-0123456789';

type Measured = LoadResult & { cpuUsPerReq: number; otherCpuPct: number };

interface Proxy {
  name: string;
  pid: number;
  url: string;
}

const BODIES = BENCH_BODIES;

function gatewayConfig(upBase: string, requireKey: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-'));
  const path = join(dir, 'gateway.yaml');
  writeFileSync(
    path,
    benchConfigYaml(upBase, [
      `auth: { require_client_key: ${String(requireKey)} }`,
      `traces: { enabled: ${process.env.BENCH_TRACES === 'on' ? 'true' : 'false'} }`,
    ]),
  );
  return path;
}

async function startGateway(name: string, upBase: string, requireKey: boolean): Promise<Proxy> {
  const config = gatewayConfig(upBase, requireKey);
  const port = await freePort();
  const proc = await startServer(
    name,
    [...GATEWAY_NODE_ARGS, 'dist/main.js'],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      GATEWAY_CONFIG: config,
      DATABASE_URL: `sqlite:${join(config, '..', 'gw.db')}`,
      LOG_LEVEL: 'warn',
      GATEWAY_MASTER_KEY: MASTER_KEY,
    },
    port,
    1,
  );
  return { name, pid: proc.pid ?? 0, url: `http://127.0.0.1:${port}/v1/chat/completions` };
}

async function rounds(
  proxies: Proxy[],
  body: string,
  c: number,
  headers: (p: Proxy) => Record<string, string> = () => ({}),
): Promise<Measured[][]> {
  const acc: Measured[][] = proxies.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, p] of proxies.entries()) {
      acc[i]?.push(await measured(p.pid, () => runLoad(p.url, body, c, DURATION_MS, headers(p))));
    }
  }
  return acc;
}

const med = (list: Measured[], k: keyof Measured): number =>
  median(list.map((x) => x[k]).filter((v): v is number => typeof v === 'number'));

async function proxySection(floor: Proxy, gateway: Proxy): Promise<string> {
  const rows: string[][] = [];
  for (const [mode, body] of Object.entries(BODIES)) {
    for (const c of CONCURRENCIES) {
      const [f = [], g = []] = await rounds([floor, gateway], body, c);
      const fr = med(f, 'rps');
      const gr = med(g, 'rps');
      const fc = med(f, 'cpuUsPerReq');
      const gc = med(g, 'cpuUsPerReq');
      rows.push([
        mode,
        String(c),
        fmt(fr, 0),
        fmt(gr, 0),
        fmt(
          pairedRatio(
            f.map((x) => x.rps),
            g.map((x) => x.rps),
          ),
          2,
        ),
        fmt(fc, 0),
        fmt(gc, 0),
        fmt(
          pairedRatio(
            g.map((x) => x.cpuUsPerReq),
            f.map((x) => x.cpuUsPerReq),
          ),
          2,
        ),
        fmt(med(f, 'p50'), 3),
        fmt(med(g, 'p50'), 3),
        fmt(med(g, 'p50') - med(f, 'p50'), 3),
        fmt(med(f, 'p99'), 3),
        fmt(med(g, 'p99'), 3),
        fmt(med(g, 'ttfbP50') - med(f, 'ttfbP50'), 3),
        fmt(med(g, 'overheadP50'), 3),
        fmt(med(g, 'overheadP99'), 3),
        fmt(Math.max(...[...f, ...g].map((x) => x.otherCpuPct)), 0),
        String([...f, ...g].reduce((a, x) => a + x.errors, 0)),
      ]);
    }
  }
  const header = [
    'mode',
    'conc',
    'floor rps',
    'gw rps',
    'gw/floor rps',
    'floor cpu µs/req',
    'gw cpu µs/req',
    'floor/gw cpu',
    'floor p50',
    'gw p50',
    'added p50',
    'floor p99',
    'gw p99',
    'added ttfb p50',
    'gw ovh p50',
    'gw ovh p99',
    'others max cpu %',
    'errors',
  ];
  return [
    `Gateway vs platform floor (ms; median of ${ROUNDS} interleaved rounds of ${DURATION_MS} ms, ratios as the median of each round's pair; each proxy pinned to one core; gateway traces ${process.env.BENCH_TRACES === 'on' ? 'ON' : 'OFF'})`,
    'Targets: gw/floor ≥ 0.85 non-stream and ≥ 0.8 stream at concurrency 10 and 100 when the proxy core is saturated (floor/gw cpu is that ratio); added p50 ≤ 0.1 ms at concurrency 1; added ttfb ≤ 0.5 ms; gw ovh p50 ≤ 0.1 ms.',
    '',
    table(header, rows),
  ].join('\n');
}

/** A client key created through the admin API of a running gateway. */
async function createKey(gateway: Proxy): Promise<string> {
  const admin = gateway.url.replace('/v1/chat/completions', '/admin/keys');
  const res = await fetch(admin, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', rpm: 10_000_000, tpm: 10_000_000_000 }),
  });
  if (res.status !== 201) throw new Error(`creating a bench key failed: ${res.status}`);
  return ((await res.json()) as { key: string }).key;
}

async function authSection(open: Proxy, keyed: Proxy): Promise<string> {
  const key = await createKey(keyed);
  const headers = (p: Proxy): Record<string, string> =>
    p === keyed ? { authorization: `Bearer ${key}` } : {};
  await rounds([open, keyed], BODIES['non-stream'], 10, headers);
  const rows: string[][] = [];
  for (const c of [1, 10]) {
    const [o = [], k = []] = await rounds([open, keyed], BODIES['non-stream'], c, headers);
    rows.push([
      String(c),
      fmt(med(o, 'p50'), 3),
      fmt(med(k, 'p50'), 3),
      fmt(med(k, 'p50') - med(o, 'p50'), 3),
      fmt(med(o, 'rps'), 0),
      fmt(med(k, 'rps'), 0),
      fmt(med(k, 'rps') / med(o, 'rps'), 2),
      fmt(med(o, 'cpuUsPerReq'), 0),
      fmt(med(k, 'cpuUsPerReq'), 0),
      String([...o, ...k].reduce((a, x) => a + x.errors, 0)),
    ]);
  }
  return [
    `Client keys: require_client_key on (a key with rpm and tpm limits, checked per call) vs off (non-stream; median of ${ROUNDS} interleaved rounds of ${DURATION_MS} ms; ms)`,
    'Target: added p50 ≤ 0.1 ms at concurrency 10.',
    '',
    table(
      [
        'conc',
        'off p50',
        'on p50',
        'added p50',
        'off rps',
        'on rps',
        'on/off rps',
        'off cpu µs/req',
        'on cpu µs/req',
        'errors',
      ],
      rows,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  pin(0, process.pid);
  if (!existsSync(join(ROOT, 'dist/main.js')))
    throw new Error('dist/main.js missing: run `npm run build` first');
  const out: string[] = [];
  if (ONLY.has('proxy') || ONLY.has('auth')) {
    const upPort = await freePort();
    await startServer('upstream', [...TS_NODE, 'bench/upstream.ts', String(upPort)], {}, upPort, 0);
    const upBase = `http://127.0.0.1:${upPort}`;
    const gateway = await startGateway('gateway', upBase, false);
    for (const body of Object.values(BODIES)) await runLoad(gateway.url, body, 10, WARMUP_MS / 2);
    if (ONLY.has('proxy')) {
      const floorPort = await freePort();
      const floorProc = await startServer(
        'floor',
        [...TS_NODE, 'bench/floor.ts', String(floorPort), upBase],
        {},
        floorPort,
        1,
      );
      const floor = {
        name: 'floor',
        pid: floorProc.pid ?? 0,
        url: `http://127.0.0.1:${floorPort}/v1/chat/completions`,
      };
      for (const body of Object.values(BODIES)) await runLoad(floor.url, body, 10, WARMUP_MS / 2);
      out.push(await proxySection(floor, gateway));
      console.log(`\n${out[out.length - 1] ?? ''}\n`);
    }
    if (ONLY.has('auth')) {
      const keyed = await startGateway('gateway-keys', upBase, true);
      out.push(await authSection(gateway, keyed));
      console.log(`\n${out[out.length - 1] ?? ''}\n`);
    }
    stopAll();
  }
  if (ONLY.has('adapters')) {
    const { runAdaptersBench } = await import('./adapters');
    out.push(await runAdaptersBench());
    console.log(`\n${out[out.length - 1] ?? ''}\n`);
  }
  if (ONLY.has('traces')) {
    const { runTracesBench } = await import('./traces');
    out.push(await runTracesBench());
    console.log(`\n${out[out.length - 1] ?? ''}\n`);
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * Traces bench: what recording every call costs the proxy, measured in one run.
 *
 * 1. Writer alone: N CallRecords queued at once into a TraceWriter (worker thread, own
 *    connection); traces/s until all are stored, and the main thread's event-loop delay meanwhile.
 *    SQLite, and PostgreSQL when a server answers at TEST_PG_URL.
 * 2. Proxy with traces ON against traces OFF (gateways from dist/main.js, same config but
 *    `traces.enabled`), interleaved rounds at concurrency 100, non-stream and stream, beside a
 *    control: a second OFF gateway in the same rounds (what the method reads between equals);
 *    then the three loaded at once, each at concurrency 100 (the same window for all three).
 * 3. The ON gateway (its database pre-filled with 100k traces) quiet, then with a concurrent
 *    `q` search and filtered-list load on /api/records, beside a second quiet run (the control),
 *    in rotating turns.
 *
 * Processes: bench upstream and this load generator pinned to core 0; each gateway's main thread
 * pinned to core 1 once it is up; its trace writer and reader threads are left to the OS, as on a
 * server with more than one core (here they compete with the load generator and the upstream on
 * core 0, and with the proxy on core 1, at nice 19).
 *
 *   npm run build   (or: npx tsc -p tsconfig.build.json)
 *   node -r ts-node/register/transpile-only bench/traces.ts
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Database } from 'better-sqlite3';
import { Client } from 'pg';
import { Pool } from 'undici';
import { createDataSource } from '../src/database/data-source';
import { ENTITIES, MIGRATIONS } from '../src/database/schema';
import { TRACE_THREAD_NICE } from '../src/common/thread-priority';
import { workerLink } from '../src/traces/trace-worker-link';
import { TraceWriter } from '../src/traces/trace-writer';
import { percentile, runLoad, runPaced, type LoadResult } from './load';
import { callRecord, fill, MODELS, VOCAB } from './traces-fill';
import {
  BENCH_BODIES,
  benchConfigYaml,
  cpuMsOf,
  fmt,
  GATEWAY_NODE_ARGS,
  freePort,
  median,
  pairedDiff,
  pairedRatio,
  pin as pinProcess,
  ROOT,
  startServer,
  table,
  TS_NODE,
} from './support';

/** The main thread only: the trace worker threads are left to the OS. */
const pin = (core: number, pid: number): void => pinProcess(core, pid, false);

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const WRITER_N = Number(process.env.TRACES_WRITER_N ?? 50_000);
const STORED = Number(process.env.TRACES_STORED ?? 100_000);
const QUERY_CLIENTS = Number(process.env.TRACES_QUERY_CLIENTS ?? 2);
/** Saturation longer than the worker holds its writes for (5 s): what a sustained overload costs. */
const SUSTAINED_MS = Number(process.env.TRACES_SUSTAINED_MS ?? 15_000);
const SUSTAINED_ROUNDS = Number(process.env.TRACES_SUSTAINED_ROUNDS ?? 2);
/** Rounds of the closed loop at CONCURRENCY (each: OFF, ON and the control, in rotating turns). */
const CLOSED_ROUNDS = Number(process.env.TRACES_ROUNDS ?? 8);
const MASTER = 'bench-master-key';
/** Parts to run: writer, onoff, search (all by default). */
const PARTS = new Set((process.env.TRACES_PARTS ?? 'writer,onoff,search').split(','));
const PG_URL = process.env.TEST_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';

interface Measured {
  load: LoadResult;
  /** Traces still queued when the load stopped, and ms until the queue was empty again. */
  backlog?: number;
  drainMs?: number;
  dropped?: number;
  /** CPU µs per request: main thread, and every other thread (trace worker, GC helpers). */
  mainUs: number;
  otherUs: number;
}

async function measured(
  pid: number,
  url: string,
  body: string,
  run: () => Promise<LoadResult> = () => runLoad(url, body, CONCURRENCY, DURATION_MS),
): Promise<Measured> {
  const before = cpuMsOf(pid);
  const load = await run();
  const after = cpuMsOf(pid);
  const n = Math.max(1, load.requests);
  const main = after.main - before.main;
  return { load, mainUs: (main * 1e3) / n, otherUs: ((after.all - before.all - main) * 1e3) / n };
}

/** gateway_trace_queue_depth and gateway_traces_dropped_total from /metrics. */
async function traceQueue(base: string): Promise<{ depth: number; dropped: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const num = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { depth: num('gateway_trace_queue_depth'), dropped: num('gateway_traces_dropped_total') };
}

/** After a round with traces ON: how far the writer fell behind, and how long it took to catch up. */
async function drained(m: Measured, base: string): Promise<Measured> {
  const t = performance.now();
  const { first, last } = await caughtUp(base);
  return { ...m, backlog: first.depth, drainMs: performance.now() - t, dropped: last.dropped };
}

/** Waits (up to a minute) until the gateway at `base` has stored every trace it queued. */
async function caughtUp(
  base: string,
): Promise<{ first: { depth: number; dropped: number }; last: { depth: number; dropped: number } }> {
  const t = performance.now();
  const first = await traceQueue(base);
  let last = first;
  while (last.depth > 0 && performance.now() - t < 60_000) {
    await new Promise((r) => setTimeout(r, 20));
    last = await traceQueue(base);
  }
  return { first, last };
}

const sum = (ms: Measured[], f: 'skipped'): number => ms.reduce((a, m) => a + (m.load[f] ?? 0), 0);
const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Migrated SQLite file in `dir`, optionally pre-filled. */
async function sqliteDb(dir: string, stored: number): Promise<string> {
  const url = `sqlite:${join(dir, 'gateway.db')}`;
  const ds = createDataSource(url, ENTITIES, MIGRATIONS);
  await ds.initialize();
  await ds.runMigrations();
  if (stored > 0) {
    const db = (ds.driver as unknown as { databaseConnection: Database }).databaseConnection;
    fill(db, stored);
    db.pragma('optimize');
  }
  await ds.destroy();
  return url;
}

/** The writer alone: queue n records at once, time until all are stored. */
async function writerAlone(url: string, n: number): Promise<string[]> {
  const writer = new TraceWriter(workerLink({ url }), {
    enabled: () => true,
    storeBodies: () => true,
    jsonl: () => undefined,
    maxQueue: n + 10,
    logger: { warn: (o, m) => console.warn(m, o), error: (o, m) => console.error(m, o) },
  });
  writer.record(callRecord(0));
  await writer.flush(60_000);
  const records = Array.from({ length: n }, (_, i) => callRecord(i + 1));
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  for (const r of records) writer.record(r);
  const recordUs = ((performance.now() - t) * 1000) / n;
  await writer.flush(300_000);
  const secs = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const stored = writer.writtenTotal() - 1;
  await writer.close();
  return [
    url.startsWith('sqlite:') ? 'SQLite (better-sqlite3), burst' : 'PostgreSQL, burst',
    n.toLocaleString('en'),
    stored === n ? 'all' : `${stored} of ${n}`,
    Math.round(n / secs).toLocaleString('en'),
    Math.round(n / ((cpu.user + cpu.system) / 1e6)).toLocaleString('en'),
    fmt(recordUs, 2),
    fmt(loop.percentile(99) / 1e6, 1),
    fmt(loop.max / 1e6, 1),
  ];
}

/** The writer fed at a steady rate (as a busy gateway feeds it): CPU per trace, main thread delay. */
async function writerPaced(url: string, rate: number, secs: number): Promise<string[]> {
  const writer = new TraceWriter(workerLink({ url }), {
    enabled: () => true,
    storeBodies: () => true,
    jsonl: () => undefined,
    logger: { warn: (o, m) => console.warn(m, o), error: (o, m) => console.error(m, o) },
  });
  writer.record(callRecord(0));
  await writer.flush(60_000);
  const n = Math.round(rate * secs);
  const records = Array.from({ length: n }, (_, i) => callRecord(i + 1));
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  let sent = 0;
  let recordMs = 0;
  while (sent < n) {
    await new Promise((r) => setTimeout(r, 5));
    const due = Math.min(n, Math.round(((performance.now() - t) / 1000) * rate));
    const r0 = performance.now();
    for (; sent < due; sent++) writer.record(records[sent]!);
    recordMs += performance.now() - r0;
  }
  await writer.flush(300_000);
  const secsTaken = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const stored = writer.writtenTotal() - 1;
  await writer.close();
  return [
    `SQLite, paced ${rate.toLocaleString('en')}/s`,
    n.toLocaleString('en'),
    stored === n ? 'all' : `${stored} of ${n}`,
    Math.round(n / secsTaken).toLocaleString('en'),
    Math.round(n / ((cpu.user + cpu.system) / 1e6)).toLocaleString('en'),
    fmt((recordMs * 1000) / n, 2),
    fmt(loop.percentile(99) / 1e6, 1),
    fmt(loop.max / 1e6, 1),
  ];
}

async function tempPostgres(): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const admin = new Client({ connectionString: PG_URL });
  try {
    await admin.connect();
  } catch {
    return null;
  }
  const name = `gw_bench_${Math.random().toString(36).slice(2, 10)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  const ds = createDataSource(u.toString(), ENTITIES, MIGRATIONS);
  await ds.initialize();
  await ds.runMigrations();
  await ds.destroy();
  return {
    url: u.toString(),
    drop: async () => {
      const c = new Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

interface Gateway {
  proc: ChildProcess;
  base: string;
}

async function gateway(
  dir: string,
  upBase: string,
  traces: boolean,
  dbUrl: string,
  name = traces ? 'on' : 'off',
): Promise<Gateway> {
  const config = join(dir, `gateway-${name}.yaml`);
  writeFileSync(config, benchConfigYaml(upBase, [`traces: { enabled: ${traces}, retention_days: 0 }`]));
  const port = await freePort();
  const proc = await startServer(
    `gateway ${name}`,
    [...GATEWAY_NODE_ARGS, 'dist/main.js'],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      GATEWAY_CONFIG: config,
      DATABASE_URL: dbUrl,
      LOG_LEVEL: 'warn',
      GATEWAY_MASTER_KEY: MASTER,
    },
    port,
  );
  const base = `http://127.0.0.1:${port}`;
  // One call first: with traces on it starts the trace worker before the main thread is pinned.
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'warm' }] }),
  });
  await res.arrayBuffer();
  await new Promise((r) => setTimeout(r, 500));
  pin(1, proc.pid ?? 0);
  return { proc, base };
}

/** Back-to-back /api/records queries (`q` search and a filtered list, alternating) until stopped. */
function queryLoad(
  base: string,
  clients: number,
): { stop: () => Promise<{ count: number; p50: number; p95: number; errors: number }> } {
  const pool = new Pool(base, { connections: clients });
  let running = true;
  const times: number[] = [];
  let errors = 0;
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let i = c; running; i += clients) {
      const path =
        i % 2 === 0
          ? `/api/records?limit=50&q=${encodeURIComponent(VOCAB[i % 50]!)}`
          : `/api/records?limit=50&model=${MODELS[i % MODELS.length]!}&status=success`;
      const t = performance.now();
      try {
        const r = await pool.request({ path, method: 'GET', headers: { authorization: `Bearer ${MASTER}` } });
        await r.body.dump();
        if (r.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      times.push(performance.now() - t);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await pool.close();
      const s = Float64Array.from(times).sort();
      return { count: times.length, p50: percentile(s, 50), p95: percentile(s, 95), errors };
    },
  };
}

const BODIES = BENCH_BODIES;

/**
 * The columns both rows of a pair share: OFF's and the other gateway's rps and p99, the paired
 * ratio and the paired added p99, and main-thread CPU per request with OFF's over the other's.
 */
function pairColumns(off: Measured[], other: Measured[]): string[] {
  const rps = (ms: Measured[]): number[] => ms.map((x) => x.load.rps);
  const p99 = (ms: Measured[]): number[] => ms.map((x) => x.load.p99);
  const main = (ms: Measured[]): number[] => ms.map((x) => x.mainUs);
  return [
    fmt(avg(rps(off)), 0),
    fmt(avg(rps(other)), 0),
    fmt(pairedRatio(rps(off), rps(other)), 3),
    fmt(median(p99(off)), 3),
    fmt(median(p99(other)), 3),
    fmt(pairedDiff(p99(off), p99(other)), 3),
    fmt(avg(main(off)), 0),
    fmt(avg(main(other)), 0),
    fmt(pairedRatio(main(other), main(off)), 3),
  ];
}

/** The closed loop with the three gateways loaded in the same window (each at CONCURRENCY). */
const SAME_LABEL = `c=${CONCURRENCY} each, same window`;

const errorsOf = (ms: Measured[]): string => String(ms.reduce((a, x) => a + x.load.errors, 0));

/**
 * OFF against a second, identical OFF gateway measured in the same rounds: the ratio and the added
 * p99 the method reads where there is no difference to find, beside ON's.
 */
function controlRow(mode: string, off: Measured[], control: Measured[], same: boolean): string[] {
  return [
    mode,
    `${same ? SAME_LABEL : `c=${CONCURRENCY}`}, control: OFF vs a 2nd OFF`,
    ...pairColumns(off, control),
    '—',
    '—',
    '—',
    '—',
    errorsOf(off.concat(control)),
    '—',
  ];
}

export async function runTracesBench(): Promise<string> {
  if (!existsSync(join(ROOT, 'dist/main.js')) || !existsSync(join(ROOT, 'dist/traces/trace-worker.js'))) {
    throw new Error('dist/ is missing or predates the trace worker: run `npm run build` first');
  }
  pin(0, process.pid);
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-traces-'));
  const out: string[] = [];
  try {
    // 1. Writer alone.
    const writerRows = !PARTS.has('writer')
      ? []
      : [
          await writerAlone(await sqliteDb(mkdtempSync(join(dir, 'w-')), 0), WRITER_N),
          await writerPaced(await sqliteDb(mkdtempSync(join(dir, 'p-')), 0), 2500, 4),
        ];
    const pg = PARTS.has('writer') ? await tempPostgres() : null;
    if (pg) {
      try {
        writerRows.push(await writerAlone(pg.url, Math.min(WRITER_N, 20_000)));
      } finally {
        await pg.drop();
      }
    }
    out.push(
      `Trace writer alone: records queued at once, worker thread with its own connection (target ≥ 5,000 traces/s on SQLite)\n`,
      table(
        [
          'writer',
          'traces',
          'stored',
          'traces/s',
          'per CPU-second',
          'record() µs',
          'main loop delay p99 ms',
          'max ms',
        ],
        writerRows,
      ),
    );

    // 2. ON vs OFF.
    const upPort = await freePort();
    const up = await startServer('upstream', [...TS_NODE, 'bench/upstream.ts', String(upPort)], {}, upPort);
    pin(0, up.pid ?? 0);
    const upBase = `http://127.0.0.1:${upPort}`;
    const onDir = mkdtempSync(join(dir, 'on-'));
    const onUrl = await sqliteDb(onDir, STORED);
    const offUrl = await sqliteDb(mkdtempSync(join(dir, 'off-')), 0);
    const off = await gateway(dir, upBase, false, offUrl);
    const on = await gateway(dir, upBase, true, onUrl);
    const control = await gateway(
      dir,
      upBase,
      false,
      await sqliteDb(mkdtempSync(join(dir, 'control-')), 0),
      'control',
    );
    const url = (g: Gateway): string => `${g.base}/v1/chat/completions`;
    for (const body of Object.values(BODIES)) {
      for (const g of [off, on, control]) await runLoad(url(g), body, 10, 1500);
    }
    const rows: string[][] = [];
    for (const [mode, body] of PARTS.has('onoff') ? Object.entries(BODIES) : []) {
      // Closed loop at CONCURRENCY (the proxy saturated), then an open loop at half the OFF
      // gateway's saturated rate (a busy but not overloaded gateway), then saturation for longer
      // than the trace worker holds its writes for a saturated proxy.
      let rate = 0;
      for (const load of ['closed', 'same', 'paced', 'sustained'] as const) {
        const paced = load === 'paced';
        const run = (g: Gateway) =>
          paced
            ? () => runPaced(url(g), body, rate, DURATION_MS)
            : () => runLoad(url(g), body, CONCURRENCY, load === 'sustained' ? SUSTAINED_MS : DURATION_MS);
        const acc: Record<'off' | 'on' | 'control', Measured[]> = { off: [], on: [], control: [] };
        const rounds = load === 'sustained' ? SUSTAINED_ROUNDS : load === 'paced' ? ROUNDS : CLOSED_ROUNDS;
        for (let r = 0; r < rounds; r++) {
          if (load === 'same') {
            // The three at once: whatever slows the machine in this window slows all three.
            const [a, b, c] = await Promise.all(
              [off, on, control].map((g) => measured(g.proc.pid ?? 0, url(g), body, run(g))),
            );
            acc.off.push(a!);
            acc.on.push(await drained(b!, on.base));
            acc.control.push(c!);
            continue;
          }
          // The closed loop also measures a second OFF gateway (the control: what the method reads
          // between two identical gateways), the three in turns that rotate round by round.
          const turns: Array<() => Promise<void>> = [
            async () => void acc.off.push(await measured(off.proc.pid ?? 0, url(off), body, run(off))),
            async () =>
              void acc.on.push(
                await drained(await measured(on.proc.pid ?? 0, url(on), body, run(on)), on.base),
              ),
          ];
          if (load === 'closed') {
            turns.push(
              async () =>
                void acc.control.push(
                  await measured(control.proc.pid ?? 0, url(control), body, run(control)),
                ),
            );
          }
          for (let t = 0; t < turns.length; t++) await turns[(t + r) % turns.length]!();
        }
        const other = (f: 'otherUs' | 'backlog' | 'drainMs' | 'dropped'): number[] =>
          acc.on.map((x) => x[f] ?? 0);
        if (load === 'closed') rate = Math.round(avg(acc.off.map((x) => x.load.rps)) / 2);
        rows.push([
          mode,
          paced
            ? `${rate}/s`
            : load === 'sustained'
              ? `c=${CONCURRENCY}, ${SUSTAINED_MS / 1000} s`
              : load === 'same'
                ? SAME_LABEL
                : `c=${CONCURRENCY}`,
          ...pairColumns(acc.off, acc.on),
          fmt(avg(other('otherUs')) - avg(acc.off.map((x) => x.otherUs)), 0),
          fmt(Math.max(...other('backlog')), 0),
          fmt(Math.max(...other('drainMs')), 0),
          fmt(Math.max(...other('dropped')), 0),
          errorsOf(acc.off.concat(acc.on)),
          paced ? `${sum(acc.off, 'skipped')} / ${sum(acc.on, 'skipped')}` : '—',
        ]);
        if (acc.control.length > 0) rows.push(controlRow(mode, acc.off, acc.control, load === 'same'));
      }
    }
    out.push(
      `\nProxy with traces ON vs OFF (interleaved rounds of ${DURATION_MS} ms: ${CLOSED_ROUNDS} in the closed loop, each with a control — a second OFF gateway, what the method reads where there is nothing to find — in turns that rotate round by round, then ${CLOSED_ROUNDS} rounds with the three loaded in the same window (their main threads share core 1: what slows the machine slows all three alike, so the ratio reads the cost per call; latencies are those of a core shared three ways), ${ROUNDS} in the open loop; ratios and added p99 as the median of each round's pair, p99 columns the median round; closed loop at concurrency ${CONCURRENCY}, then open loop at half OFF's rate, then ${SUSTAINED_ROUNDS} rounds of ${SUSTAINED_MS} ms at concurrency ${CONCURRENCY}, longer than the worker holds its writes while the proxy is saturated (5 s); targets at c=${CONCURRENCY}: ON/OFF ≥ 0.9, added p99 ≤ 1 ms; ms). CPU per request from /proc: main thread, and the ON gateway's other threads beyond OFF's (the trace worker). Backlog: traces not yet stored when a round ended, and ms until all were (the trace threads run at nice ${TRACE_THREAD_NICE} and yield to the proxy). Not sent: open-loop starts skipped because 200 requests were already waiting\n`,
      table(
        [
          'mode',
          'load',
          'OFF rps',
          'ON rps',
          'ON/OFF',
          'OFF p99',
          'ON p99',
          'added p99',
          'OFF main µs/req',
          'ON main µs/req',
          'OFF/ON main CPU',
          'ON worker µs/req',
          'backlog at end',
          'caught up ms',
          'dropped',
          'errors',
          'open loop: not sent, OFF / ON',
        ],
        rows,
      ),
    );

    // 3. ON gateway quiet vs under /api/records load.
    const qrows: string[][] = [];
    for (const [mode, body] of PARTS.has('search') ? Object.entries(BODIES) : []) {
      const quiet: LoadResult[] = [];
      const loaded: LoadResult[] = [];
      // The control: a second quiet run in the same rounds (what Δ p99 reads where nothing changed).
      const again: LoadResult[] = [];
      const queries: Array<{ count: number; p50: number; p95: number; errors: number }> = [];
      for (let r = 0; r < ROUNDS; r++) {
        const turns: Array<() => Promise<void>> = [
          async () => void quiet.push(await runLoad(url(on), body, CONCURRENCY, DURATION_MS)),
          async () => {
            const q = queryLoad(on.base, QUERY_CLIENTS);
            loaded.push(await runLoad(url(on), body, CONCURRENCY, DURATION_MS));
            queries.push(await q.stop());
          },
          async () => void again.push(await runLoad(url(on), body, CONCURRENCY, DURATION_MS)),
        ];
        for (let t = 0; t < turns.length; t++) {
          await turns[(t + r) % turns.length]!();
          // Each run's traces stored before the next run starts: no turn pays for the one before.
          await caughtUp(on.base);
        }
      }
      const p99 = (xs: LoadResult[]): number[] => xs.map((x) => x.p99);
      const added = (xs: LoadResult[]): number => pairedDiff(p99(quiet), p99(xs));
      qrows.push([
        mode,
        fmt(avg(quiet.map((x) => x.rps)), 0),
        fmt(avg(loaded.map((x) => x.rps)), 0),
        fmt(median(p99(quiet)), 3),
        fmt(median(p99(loaded)), 3),
        fmt(added(loaded), 3),
        fmt(added(again), 3),
        fmt(avg(queries.map((q) => q.count)) / (DURATION_MS / 1000), 0),
        fmt(avg(queries.map((q) => q.p50)), 2),
        fmt(avg(queries.map((q) => q.p95)), 2),
        String(
          queries.reduce((a, q) => a + q.errors, 0) +
            loaded.concat(quiet, again).reduce((a, x) => a + x.errors, 0),
        ),
      ]);
    }
    out.push(
      `\nTraces ON, ${STORED.toLocaleString('en')} stored: quiet vs ${QUERY_CLIENTS} clients running \`q\` search / filtered list on /api/records, ${ROUNDS} rounds of ${DURATION_MS} ms at concurrency ${CONCURRENCY}, beside a control (a second quiet run in the same rounds), in turns that rotate round by round; Δ p99 the median of each round's pair, p99 columns the median round (target: p99 within 2 ms; ms)\n`,
      table(
        [
          'mode',
          'quiet rps',
          'loaded rps',
          'quiet p99',
          'loaded p99',
          'Δ p99',
          'control Δ p99',
          'queries/s',
          'query p50',
          'query p95',
          'errors',
        ],
        qrows,
      ),
    );
    out.push(
      '\nNumbers from a shared 2-core machine under other load: noisy; compare the ratios within this run.',
    );
    for (const p of [up, off.proc, on.proc, control.proc]) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out.join('\n');
}

if (require.main === module) {
  runTracesBench()
    .then((tables) => {
      console.log(tables);
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}

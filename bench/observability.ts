/**
 * What observability costs the hot path. Two measurements, in one run:
 *
 * 1. In process: the synchronous part a call pays when it finishes — CallObservers.observe() with
 *    /metrics only (what the gateway did before), and with the debug call log (at info: one level
 *    check), two alert rules and the OpenTelemetry queue. Plus, separately, the work done later:
 *    on the event loop at each flush (a plain summary of the record, bytes packed for the worker)
 *    and on the span worker thread (finish reasons from the bytes, the spans).
 * 2. End to end: the gateway with OTEL_EXPORTER_OTLP_ENDPOINT set (spans sent to a local OTLP
 *    sink in this process) against the same gateway without it, interleaved rounds, each proxy
 *    pinned to core 1, the bench upstream and the load generator to core 0.
 *
 * Usage: node -r ts-node/register/transpile-only bench/observability.ts
 * Knobs: BENCH_DURATION_MS (2000), BENCH_ROUNDS (3), BENCH_CONCURRENCY (1,10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { CallRecord } from '../src/gateway/call-record';
import { Alerts } from '../src/observability/alerts/alerts';
import { CallLog } from '../src/observability/call-log';
import { CallObservers } from '../src/observability/call-observers';
import { createLogger } from '../src/observability/logger';
import { GatewayMetrics } from '../src/observability/metrics';
import { OtelCalls } from '../src/observability/otel/otel-calls';
import { SpanBuilder } from '../src/observability/otel/span-builder';
import { packBatch, toSpanInput } from '../src/observability/otel/span-input';
import { knownSecrets } from '../src/observability/secrets';
import { runLoad, type LoadResult } from './load';
import { freePort, pin as pinProcess } from './support';

const pin = (core: number, pid: number): void => pinProcess(core, pid, false);

const ROOT = resolve(__dirname, '..');
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,10').split(',').map(Number);
const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function record(i: number, stream: boolean): CallRecord {
  const chunks = Array.from({ length: 30 }, (_, k) =>
    Buffer.from(
      `data: {"id":"c${i}","object":"chat.completion.chunk","model":"bench-model","choices":[{"index":0,"delta":{"content":"w${k} "},"finish_reason":${k === 29 ? '"stop"' : 'null'}}]}\n\n`,
    ),
  );
  const body = Buffer.from(
    JSON.stringify({
      id: `c${i}`,
      model: 'bench-model',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'x'.repeat(400) }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 20, completion_tokens: 90, total_tokens: 110 },
    }),
  );
  return {
    id: '2b09f0e8-8be8-477c-99f8-d05813c35953',
    startedAt: Date.now() - 5,
    endpoint: '/v1/chat/completions',
    model: 'bench-model',
    provider: 'up',
    upstreamModel: 'bench-model',
    stream,
    keyId: 'key_1',
    sessionId: null,
    metadata: null,
    request: { model: 'bench-model', messages: [{ role: 'user', content: 'hi' }] },
    requestBytes: null,
    upstreamRequest: null,
    response: stream ? { kind: 'sse', chunks } : { kind: 'raw-json', bytes: body },
    status: 'success',
    httpStatus: 200,
    error: null,
    latencyMs: 4.2,
    ttftMs: stream ? 1.1 : null,
    overheadMs: 0.03,
    attempts: [{ provider: 'up', model: 'bench-model', status: 200, error: null, latency_ms: 4 }],
    usage: { prompt_tokens: 20, completion_tokens: 90, total_tokens: 110 } as CallRecord['usage'],
    replayOf: null,
    sessionOf: null,
  };
}

const nullExporter: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => undefined,
};

function nsPer(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i); // warm
  const t = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - t) * 1e6) / n;
}

async function inProcess(): Promise<string[][]> {
  const N = 200_000;
  const logger = createLogger('info', { write: () => undefined });
  const metricsOnly = new CallObservers(new GatewayMetrics());
  const full = new CallObservers(new GatewayMetrics());
  full.add(new CallLog(logger));
  const alerts = new Alerts({
    rules: () => [
      { name: 'e', when: 'error_rate', above: 0.5, window_s: 60 },
      { name: 'p', when: 'p95_latency_ms', above: 1000, window_s: 300 },
    ],
    onRulesChange: () => () => undefined,
    logger,
    evaluateEveryMs: 1000,
  });
  full.add(alerts);
  const otel = new OtelCalls({
    settings: { url: 'http://127.0.0.1:9/v1/traces', headers: {}, serviceName: 'bench', ratio: 1 },
    provider: () => ({ type: 'openai', baseUrl: 'http://127.0.0.1:1/v1' }),
    scrubber: knownSecrets,
    logger,
    exporter: nullExporter,
    maxQueue: N * 3,
    buildIntervalMs: 3_600_000,
  });
  full.add(otel);
  const recs = [record(0, false), record(1, true)];
  const base = nsPer(N, (i) => metricsOnly.observe(recs[i & 1] as CallRecord));
  const all = nsPer(N, (i) => full.observe(recs[i & 1] as CallRecord));
  await alerts.close();

  // The two halves of the span work, each per record: on the event loop at each flush (summary,
  // packing), and on the span worker (facts from bytes, spans; export not included).
  const lookup = (): { type: string; baseUrl: string } => ({
    type: 'openai',
    baseUrl: 'http://127.0.0.1:1/v1',
  });
  const packJson = nsPer(20_000, () => packBatch([toSpanInput(recs[0] as CallRecord, lookup, knownSecrets)]));
  const packSse = nsPer(20_000, () => packBatch([toSpanInput(recs[1] as CallRecord, lookup, knownSecrets)]));
  const builder = new SpanBuilder({
    settings: { url: 'http://127.0.0.1:9/v1/traces', headers: {}, serviceName: 'bench', ratio: 1 },
    warn: () => undefined,
    exporter: nullExporter,
  });
  const jsonBatch = packBatch([toSpanInput(recs[0] as CallRecord, lookup, knownSecrets)]);
  const sseBatch = packBatch([toSpanInput(recs[1] as CallRecord, lookup, knownSecrets)]);
  const jsonSpan = nsPer(20_000, () => builder.build(jsonBatch.inputs, jsonBatch.arena));
  const sseSpan = nsPer(20_000, () => builder.build(sseBatch.inputs, sseBatch.arena));
  await builder.shutdown();
  await otel.shutdown();
  return [
    ['on the request path: observe(), metrics only', (base / 1000).toFixed(3), '1.00'],
    [
      'on the request path: + call log, 2 alert rules, span queue',
      (all / 1000).toFixed(3),
      (all / base).toFixed(2),
    ],
    ['event loop, at each flush: summary of one JSON call', (packJson / 1000).toFixed(3), '-'],
    ['event loop, at each flush: summary of one 30-chunk stream', (packSse / 1000).toFixed(3), '-'],
    ['span worker: spans of one JSON call', (jsonSpan / 1000).toFixed(3), '-'],
    ['span worker: spans of one 30-chunk stream', (sseSpan / 1000).toFixed(3), '-'],
  ];
}

async function startProc(args: string[], env: NodeJS.ProcessEnv, core: number, port: number): Promise<void> {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(proc);
  pin(core, proc.pid ?? 0);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${args.join(' ')} exited`);
    try {
      await (await fetch(`http://127.0.0.1:${port}/health`)).arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error('did not start');
}

async function endToEnd(): Promise<string[][]> {
  let spans = 0;
  const sink = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      spans += (body.match(/"spanId"/g) ?? []).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;

  const upPort = await freePort();
  await startProc([...TS_NODE, 'bench/upstream.ts', String(upPort)], {}, 0, upPort);
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-obs-'));
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(
    configPath,
    `traces: { enabled: false }\nproviders:\n  up: { type: openai, base_url: "http://127.0.0.1:${upPort}/v1", api_key: bench-key }\nroutes:\n  - match: { any: true }\n    targets: [ { provider: up } ]\nalerts:\n  - { name: e, when: error_rate, above: 0.5, window_s: 60 }\n`,
  );
  const ports = { off: await freePort(), on: await freePort() };
  const common = {
    HOST: '127.0.0.1',
    GATEWAY_CONFIG: configPath,
    LOG_LEVEL: 'warn',
    GATEWAY_MASTER_KEY: 'bench-master-key',
    TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
  };
  await startProc(
    [...TS_NODE, 'src/main.ts'],
    { ...common, PORT: String(ports.off), DATABASE_URL: `sqlite:${join(dir, 'off.db')}` },
    1,
    ports.off,
  );
  await startProc(
    [...TS_NODE, 'src/main.ts'],
    {
      ...common,
      PORT: String(ports.on),
      DATABASE_URL: `sqlite:${join(dir, 'on.db')}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
    },
    1,
    ports.on,
  );
  const url = (who: 'off' | 'on'): string => `http://127.0.0.1:${ports[who]}/v1/chat/completions`;
  const messages = [{ role: 'user', content: 'Say something about foxes and dogs, briefly.' }];
  const bodies = {
    'non-stream': JSON.stringify({ model: 'bench-model', messages }),
    stream: JSON.stringify({ model: 'bench-model', messages, stream: true }),
  };
  for (const body of Object.values(bodies))
    for (const who of ['off', 'on'] as const) await runLoad(url(who), body, 10, 2000);

  const rows: string[][] = [];
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  for (const [mode, body] of Object.entries(bodies)) {
    for (const c of CONCURRENCIES) {
      const res: Record<'off' | 'on', LoadResult[]> = { off: [], on: [] };
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
        for (const who of order) res[who].push(await runLoad(url(who), body, c, DURATION_MS));
      }
      const m = (who: 'off' | 'on', k: 'rps' | 'p50' | 'overheadP50'): number =>
        median(res[who].map((x) => x[k] ?? NaN));
      rows.push([
        mode,
        String(c),
        m('off', 'rps').toFixed(0),
        m('on', 'rps').toFixed(0),
        (m('on', 'rps') / m('off', 'rps')).toFixed(2),
        m('off', 'p50').toFixed(3),
        m('on', 'p50').toFixed(3),
        m('off', 'overheadP50').toFixed(3),
        m('on', 'overheadP50').toFixed(3),
      ]);
    }
  }
  await new Promise((r) => setTimeout(r, 2500)); // the last batch leaves
  rows.push(['spans received by the OTLP sink', String(spans), '', '', '', '', '', '', '']);
  sink.close();
  return rows;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  pin(0, process.pid);
  console.log(table(['per finished call', 'µs', 'ratio'], await inProcess()));
  console.log('');
  console.log(
    table(
      ['mode', 'conc', 'off rps', 'on rps', 'on/off', 'off p50 ms', 'on p50 ms', 'off ovh p50', 'on ovh p50'],
      await endToEnd(),
    ),
  );
  process.exit(0);
}

void main();

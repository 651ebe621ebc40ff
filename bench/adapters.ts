/**
 * Adapter bench: what each adapter's conversion costs. Every built-in adapter is driven through the
 * gateway at concurrency 10, non-stream and stream, against fast bench upstreams that answer the
 * same text in each platform's own format (bench/adapter-upstreams.ts); the openai pass-through is
 * the reference measured in the same run, interleaved round by round. Printed as a markdown table:
 * p50 and its excess over the openai pass-through (the conversion cost), RPS, and ratios.
 *
 * Standalone: `node -r ts-node/register/transpile-only bench/adapters.ts` (no build needed: the
 * gateway runs from src/ under ts-node, pinned to core 1; upstream and load generator on core 0).
 * `runAdaptersBench()` returns the table for bench/run.ts. Knobs: BENCH_DURATION_MS (2000),
 * BENCH_ROUNDS (3; the median of the rounds is shown), BENCH_WARMUP_MS (3000), BENCH_ADAPTERS_CONCURRENCY (10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { anthropicStreamChunks } from '../src/providers/anthropic/anthropic.stream';
import { cozeStreamChunks } from '../src/providers/coze/coze.stream';
import { randomIds } from '../src/providers/gemini/gemini.response';
import { geminiStreamChunks } from '../src/providers/gemini/gemini.stream';
import { openaiStreamChunks } from '../src/providers/openai/openai.stream';
import { STREAM_BODIES } from './adapter-upstreams';
import { runLoad, type LoadResult } from './load';
import { fmt, freePort, pin } from './support';

const ROOT = resolve(__dirname, '..');
const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

/** One row per adapter: the provider entry (upstream at `{up}`) and notes per mode. */
const ADAPTERS: Array<{ name: string; provider: string; note?: { 'non-stream'?: string; stream?: string } }> =
  [
    {
      name: 'openai',
      provider: '{ type: openai, base_url: "{up}/v1", api_key: k }',
      note: { 'non-stream': 'byte pass-through (reference)', stream: 'byte pass-through (reference)' },
    },
    {
      name: 'azure',
      provider: '{ type: azure, base_url: "{up}", api_key: k, api_version: "2024-10-21" }',
      note: { 'non-stream': 'byte pass-through', stream: 'byte pass-through' },
    },
    { name: 'anthropic', provider: '{ type: anthropic, base_url: "{up}", api_key: k }' },
    { name: 'gemini', provider: '{ type: gemini, base_url: "{up}", api_key: k }' },
    {
      name: 'coze',
      provider: '{ type: coze, base_url: "{up}", api_key: k }',
      note: { 'non-stream': 'two upstream calls (create, then message list)' },
    },
    {
      name: 'mock',
      provider: '{ type: mock }',
      note: { 'non-stream': 'no upstream', stream: 'no upstream: chunk delivery alone' },
    },
  ];

async function waitHealthy(name: string, proc: ChildProcess, port: number): Promise<void> {
  let exited: number | null = null;
  proc.on('exit', (code) => (exited = code ?? -1));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`${name} exited with ${String(exited)}`);
    try {
      await (await fetch(`http://127.0.0.1:${port}/health`)).arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${name} did not start within 60 s`);
}

function spawnPinned(args: string[], env: NodeJS.ProcessEnv, core: number): ChildProcess {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  pin(core, proc.pid ?? 0);
  return proc;
}

/** The median over rounds: one round disturbed by the other load on the machine does not move it. */
function median(list: LoadResult[], key: 'p50' | 'p99' | 'rps'): number {
  const v = list.map((r) => r[key]).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

type Body = AsyncIterable<Buffer>;

/**
 * In-process: µs to read and convert one bench stream answer (bytes in two reads → OpenAI chunks),
 * the adapter's own share of a stream's cost, without HTTP or delivery to the client.
 */
async function streamParseCost(): Promise<Array<[string, number]>> {
  const readers: Array<[string, (body: Body) => AsyncIterable<unknown>]> = [
    ['openai', (b) => openaiStreamChunks(b)],
    ['anthropic', (b) => anthropicStreamChunks(b as never, { model: 'm', created: 1 })],
    ['gemini', (b) => geminiStreamChunks(b as never, { model: 'm', created: 1, ids: randomIds })],
    ['coze', (b) => cozeStreamChunks(b as never, { model: 'm', created: 1 })],
  ];
  const out: Array<[string, number]> = [];
  for (const [name, read] of readers) {
    const bytes = Buffer.from(STREAM_BODIES[name as keyof typeof STREAM_BODIES]);
    const cut = bytes.indexOf('\n\n') + 2;
    const body = async function* (): Body {
      yield bytes.subarray(0, cut);
      yield bytes.subarray(cut);
    };
    const once = async (): Promise<void> => {
      for await (const _ of read(body())) {
        // drain
      }
    };
    for (let i = 0; i < 2000; i++) await once();
    const n = 10_000;
    const t = performance.now();
    for (let i = 0; i < n; i++) await once();
    out.push([name, ((performance.now() - t) / n) * 1000]);
  }
  return out;
}

export async function runAdaptersBench(): Promise<string> {
  const duration = Number(process.env.BENCH_DURATION_MS ?? 2000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const warmup = Number(process.env.BENCH_WARMUP_MS ?? 3000);
  const concurrency = Number(process.env.BENCH_ADAPTERS_CONCURRENCY ?? 10);
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-adapters-'));
  try {
    pin(0, process.pid);
    const upPort = await freePort();
    const upstream = spawnPinned([...TS_NODE, 'bench/adapter-upstreams.ts', String(upPort)], {}, 0);
    children.push(upstream);
    await waitHealthy('adapter upstreams', upstream, upPort);
    const up = `http://127.0.0.1:${upPort}`;

    const configPath = join(dir, 'gateway.yaml');
    writeFileSync(
      configPath,
      [
        'traces: { enabled: false }',
        'providers:',
        ...ADAPTERS.map((a) => `  ${a.name}: ${a.provider.replace('{up}', up)}`),
        'routes:',
        ...ADAPTERS.flatMap((a) => [
          `  - match: { exact: bench-${a.name} }`,
          `    targets: [ { provider: ${a.name} } ]`,
        ]),
        '',
      ].join('\n'),
    );
    const gwPort = await freePort();
    const gateway = spawnPinned(
      [...TS_NODE, 'src/main.ts'],
      {
        PORT: String(gwPort),
        HOST: '127.0.0.1',
        GATEWAY_CONFIG: configPath,
        DATABASE_URL: `sqlite:${join(dir, 'gw.db')}`,
        LOG_LEVEL: 'warn',
        GATEWAY_MASTER_KEY: 'bench-master-key-0123456789',
        WORKERS: '1',
      },
      1,
    );
    children.push(gateway);
    await waitHealthy('gateway', gateway, gwPort);
    const url = `http://127.0.0.1:${gwPort}/v1/chat/completions`;
    const messages = [{ role: 'user', content: 'Say something about foxes and dogs, briefly.' }];
    const body = (name: string, stream: boolean): string =>
      JSON.stringify({ model: `bench-${name}`, messages, ...(stream ? { stream: true } : {}) });

    for (const a of ADAPTERS) {
      for (const stream of [false, true]) await runLoad(url, body(a.name, stream), concurrency, warmup / 4);
    }

    const results = new Map<string, LoadResult[]>();
    for (let r = 0; r < rounds; r++) {
      for (const stream of [false, true]) {
        for (const a of ADAPTERS) {
          const key = `${a.name}/${stream ? 'stream' : 'non-stream'}`;
          const list = results.get(key) ?? [];
          list.push(await runLoad(url, body(a.name, stream), concurrency, duration));
          results.set(key, list);
        }
      }
    }

    const header = [
      'adapter',
      'mode',
      'p50',
      'added p50 vs openai',
      'p50 ratio',
      'p99',
      'rps',
      'rps ratio',
      'errors',
      'note',
    ];
    const rows: string[][] = [];
    for (const mode of ['non-stream', 'stream']) {
      const ref = results.get(`openai/${mode}`) ?? [];
      const refP50 = median(ref, 'p50');
      const refRps = median(ref, 'rps');
      for (const a of ADAPTERS) {
        const list = results.get(`${a.name}/${mode}`) ?? [];
        const p50 = median(list, 'p50');
        const rps = median(list, 'rps');
        rows.push([
          a.name,
          mode,
          fmt(p50, 3),
          a.name === 'openai' ? '—' : `${p50 - refP50 >= 0 ? '+' : ''}${fmt(p50 - refP50, 3)}`,
          fmt(p50 / refP50, 2),
          fmt(median(list, 'p99'), 3),
          fmt(rps, 0),
          fmt(rps / refRps, 2),
          String(list.reduce((n, x) => n + x.errors, 0)),
          a.note?.[mode as 'non-stream' | 'stream'] ?? '',
        ]);
      }
    }
    const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
    const parse = await streamParseCost();
    const ref = parse[0]?.[1] ?? NaN;
    return [
      `Adapter conversion cost through the gateway (ms; concurrency ${concurrency}; median of ${rounds} interleaved rounds of ${duration} ms; traces off; gateway from src/ under ts-node, pinned to one core)`,
      '',
      line(header),
      line(header.map(() => '---')),
      ...rows.map(line),
      '',
      'Reading and converting one bench stream answer in-process (µs per stream; no HTTP, no delivery):',
      '',
      line(['adapter', 'µs per stream', 'ratio vs openai']),
      line(['---', '---', '---']),
      ...parse.map(([name, us]) => line([name, fmt(us, 1), fmt(us / ref, 2)])),
    ].join('\n');
  } finally {
    for (const c of children) c.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runAdaptersBench()
    .then((table) => {
      console.log(`\n${table}\n`);
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}

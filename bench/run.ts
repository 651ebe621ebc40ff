/**
 * npm run bench — the gateway against the platform floor, measured in one run, interleaved.
 * Processes: bench upstream and this load generator pinned to core 0; the proxy under test
 * (floor or gateway) pinned to core 1. Prints a table with gateway/floor ratios.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer as createNetServer } from 'node:net';
import { runLoad, type LoadResult } from './load';

const ROOT = resolve(__dirname, '..');
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,10,100').split(',').map(Number);
const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

function pin(core: number, pid: number): void {
  try {
    execFileSync('taskset', ['-cp', String(core), String(pid)], { stdio: 'ignore' });
  } catch {
    // taskset missing: run unpinned
  }
}

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolvePromise(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Starts a server process pinned to `core`; ready when its port answers. */
async function start(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  core: number,
  port: number,
): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(proc);
  pin(core, proc.pid ?? 0);
  const state = { exited: null as number | null };
  proc.on('exit', (code) => (state.exited = code ?? -1));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (state.exited !== null) throw new Error(`${name} exited with ${String(state.exited)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      await res.arrayBuffer();
      return { proc, port };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${name} did not start`);
}

function fmt(n: number | null, digits = 2): string {
  return n === null || Number.isNaN(n) ? '-' : n.toFixed(digits);
}

async function main(): Promise<void> {
  pin(0, process.pid);
  if (!existsSync(join(ROOT, 'dist/main.js')))
    throw new Error('dist/main.js missing: run `npm run build` first');
  const upPort = await freePort();
  const upstream = await start('upstream', [...TS_NODE, 'bench/upstream.ts', String(upPort)], {}, 0, upPort);
  const upBase = `http://127.0.0.1:${upstream.port}`;
  const floorPort = await freePort();
  const floor = await start(
    'floor',
    [...TS_NODE, 'bench/floor.ts', String(floorPort), upBase],
    {},
    1,
    floorPort,
  );
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-'));
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(
    configPath,
    [
      `traces: { enabled: ${process.env.BENCH_TRACES === 'on' ? 'true' : 'false'} }`,
      'providers:',
      `  up: { type: openai, base_url: "${upBase}/v1", api_key: bench-key }`,
      'routes:',
      '  - match: { any: true }',
      '    targets: [ { provider: up } ]',
      '',
    ].join('\n'),
  );
  const gwPort = await freePort();
  const gateway = await start(
    'gateway',
    ['dist/main.js'],
    {
      PORT: String(gwPort),
      HOST: '127.0.0.1',
      GATEWAY_CONFIG: configPath,
      DATABASE_URL: `sqlite:${join(dir, 'gw.db')}`,
      LOG_LEVEL: 'warn',
      GATEWAY_MASTER_KEY: 'bench-master-key',
    },
    1,
    gwPort,
  );
  const targets = {
    floor: `http://127.0.0.1:${floor.port}/v1/chat/completions`,
    gateway: `http://127.0.0.1:${gateway.port}/v1/chat/completions`,
  };
  const messages = [{ role: 'user', content: 'Say something about foxes and dogs, briefly.' }];
  const bodies = {
    'non-stream': JSON.stringify({ model: 'bench-model', messages }),
    stream: JSON.stringify({ model: 'bench-model', messages, stream: true }),
  };

  // Warm-up: let both proxies' JIT settle before anything is measured.
  const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 4000);
  for (const body of Object.values(bodies)) {
    for (const who of ['floor', 'gateway'] as const) await runLoad(targets[who], body, 10, WARMUP_MS / 2);
  }

  const rows: string[][] = [];
  for (const [mode, body] of Object.entries(bodies)) {
    for (const c of CONCURRENCIES) {
      const acc: Record<'floor' | 'gateway', LoadResult[]> = { floor: [], gateway: [] };
      for (let r = 0; r < ROUNDS; r++) {
        for (const who of ['floor', 'gateway'] as const)
          acc[who].push(await runLoad(targets[who], body, c, DURATION_MS));
      }
      const avg = (list: LoadResult[], k: keyof LoadResult): number | null => {
        const vals = list.map((x) => x[k]).filter((v): v is number => typeof v === 'number');
        return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
      };
      const f = acc.floor;
      const g = acc.gateway;
      const fr = avg(f, 'rps') ?? 0;
      const gr = avg(g, 'rps') ?? 0;
      rows.push([
        mode,
        String(c),
        fmt(fr, 0),
        fmt(gr, 0),
        fmt(gr / fr, 3),
        fmt(avg(f, 'p50'), 3),
        fmt(avg(g, 'p50'), 3),
        fmt((avg(g, 'p50') ?? 0) - (avg(f, 'p50') ?? 0), 3),
        fmt(avg(f, 'p99'), 3),
        fmt(avg(g, 'p99'), 3),
        fmt(avg(f, 'ttfbP50'), 3),
        fmt(avg(g, 'ttfbP50'), 3),
        fmt(avg(g, 'overheadP50'), 3),
        fmt(avg(g, 'overheadP99'), 3),
        String(g.reduce((a, x) => a + x.errors, 0) + f.reduce((a, x) => a + x.errors, 0)),
      ]);
    }
  }
  const header = [
    'mode',
    'conc',
    'floor rps',
    'gw rps',
    'gw/floor',
    'floor p50',
    'gw p50',
    'added p50',
    'floor p99',
    'gw p99',
    'floor ttfb',
    'gw ttfb',
    'gw ovh p50',
    'gw ovh p99',
    'errors',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ')} |`;
  console.log(
    `\nGateway vs platform floor (ms; ${ROUNDS} interleaved rounds of ${DURATION_MS} ms each; proxy pinned to one core; gateway traces ${process.env.BENCH_TRACES === 'on' ? 'ON' : 'OFF'})\n`,
  );
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  for (const p of [upstream.proc, floor.proc, gateway.proc]) p.kill('SIGTERM');
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

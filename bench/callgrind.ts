/**
 * Instructions per request, counted by valgrind's callgrind: the same figure on a quiet or a busy
 * machine (user space only; the kernel's share is not counted). Starts the bench upstream, then
 * the gateway or the floor under callgrind, warms it up, zeroes the counters, sends an exact
 * number of requests and dumps the counts.
 *   node -r ts-node/register/transpile-only bench/callgrind.ts [gateway|floor] [stream|non-stream] [requests] [concurrency]
 * Prints the total and per-request instruction count; the dump (callgrind.out.*) is left in the
 * printed folder for callgrind_annotate. `SEPARATE_THREADS=on` counts each thread apart: the total
 * is then the main thread's (dump …-01), and every thread's count per request follows.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { BENCH_BODIES, benchConfigYaml, freePort, ROOT, startServer, TS_NODE } from './support';

async function waitHealthy(port: number, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`not healthy within ${limitMs} ms`);
}

/** Sends exactly `count` requests, `concurrency` at a time. */
async function send(url: string, body: string, count: number, concurrency: number): Promise<number> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: concurrency, keepAliveTimeout: 600_000 });
  let left = count;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (left > 0) {
      left--;
      const r = await pool.request({
        path: target.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await r.body.dump();
      if (r.statusCode !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await pool.close();
  return errors;
}

function callgrindControl(pid: number, flag: string): void {
  // vgdb names its pipes after $HOST, which the proxy under valgrind was given.
  execFileSync('callgrind_control', [flag, String(pid)], {
    stdio: 'ignore',
    env: { ...process.env, HOST: '127.0.0.1' },
  });
}

/** The dump's total instruction count, once callgrind has finished writing it. */
async function totalIr(
  dir: string,
): Promise<{ file: string; ir: number; events: ReadonlyArray<readonly [string, number]> }> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    for (const f of readdirSync(dir).filter((name) => name.startsWith('callgrind.out.'))) {
      const file = join(dir, f);
      const text = readFileSync(file, 'utf8');
      const m = /^totals:\s+([\d ]+)/m.exec(text);
      const events = /^events:\s+(.+)$/m.exec(text)?.[1]?.split(' ') ?? ['Ir'];
      if (m) {
        const counts = m[1]!.trim().split(' ').map(Number);
        return { file, ir: counts[0] ?? 0, events: events.map((e, i) => [e, counts[i] ?? 0] as const) };
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no callgrind dump in ${dir}`);
}

async function main(): Promise<void> {
  const [what = 'gateway', mode = 'stream', n = '2000', conc = '10'] = process.argv.slice(2);
  const count = Number(n);
  const concurrency = Number(conc);
  const traces = process.env.BENCH_TRACES === 'on';
  const dir = mkdtempSync(join(tmpdir(), 'gw-callgrind-'));
  const upPort = await freePort();
  await startServer('upstream', [...TS_NODE, 'bench/upstream.ts', String(upPort)], {}, upPort);
  const port = await freePort();
  const cfg = join(dir, 'gateway.yaml');
  writeFileSync(cfg, benchConfigYaml(`http://127.0.0.1:${upPort}`, [`traces: { enabled: ${traces} }`]));
  const script =
    what === 'floor'
      ? [...TS_NODE, 'bench/floor.ts', String(port), `http://127.0.0.1:${upPort}`]
      : ['dist/main.js'];
  const proc = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      ...(process.env.CACHE_SIM === 'on' ? ['--cache-sim=yes'] : []),
      ...(process.env.SEPARATE_THREADS === 'on' ? ['--separate-threads=yes'] : []),
      `--callgrind-out-file=${join(dir, 'callgrind.out.%p')}`,
      process.execPath,
      ...script,
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        GATEWAY_CONFIG: cfg,
        DATABASE_URL: `sqlite:${join(dir, 'gw.db')}`,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  process.on('exit', () => proc.kill('SIGKILL'));
  await waitHealthy(port, 600_000);
  const body = mode === 'stream' ? BENCH_BODIES.stream : BENCH_BODIES['non-stream'];
  const url = `http://127.0.0.1:${port}/v1/chat/completions`;
  // Warm-up: enough calls for the JIT to settle on the hot path.
  await send(url, body, Number(process.env.WARMUP ?? 3000), concurrency);
  const pid = proc.pid ?? 0;
  callgrindControl(pid, '--instr=on');
  callgrindControl(pid, '-z');
  const errors = await send(url, body, count, concurrency);
  callgrindControl(pid, '-d');
  callgrindControl(pid, '--instr=off');
  const { file: dump, ir, events } = await totalIr(dir);
  console.log(
    `${what} ${mode} traces=${traces ? 'on' : 'off'} requests=${count} c=${concurrency} errors=${errors}`,
  );
  console.log(`Ir total ${ir}  per request ${(ir / count).toFixed(0)}  dump ${dump}`);
  if (events.length > 1) {
    console.log(events.map(([e, v]) => `${e} ${(v / count).toFixed(0)}`).join('  '));
  }
  if (process.env.SEPARATE_THREADS === 'on') {
    const threads = readdirSync(dir)
      .filter((f) => /^callgrind\.out\..+-\d+$/.test(f))
      .sort()
      .map((f) => {
        const total = /^totals:\s+(\d+)/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1];
        return `${f.slice(f.lastIndexOf('-') + 1)} ${(Number(total ?? 0) / count).toFixed(0)}`;
      });
    console.log(`per request by thread: ${threads.join('  ')}`);
  }
  proc.kill('SIGKILL');
  process.exit(0);
}

void main();

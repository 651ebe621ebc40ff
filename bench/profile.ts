/**
 * Profiles one proxy under load: starts the bench upstream and the gateway (or the floor) with
 * --cpu-prof, drives it, stops it, and prints the functions with the most self time.
 *   node -r ts-node/register/transpile-only bench/profile.ts [gateway|floor] [stream|non-stream] [concurrency] [ms]
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from './load';
import { BENCH_BODIES, benchConfigYaml, freePort, pin, startServer, TS_NODE } from './support';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

async function main(): Promise<void> {
  const [what = 'gateway', mode = 'stream', conc = '10', ms = '6000'] = process.argv.slice(2);
  const traces = process.env.BENCH_TRACES === 'on';
  pin(0, process.pid);
  const dir = mkdtempSync(join(tmpdir(), 'gw-prof-'));
  const upPort = await freePort();
  await startServer('upstream', [...TS_NODE, 'bench/upstream.ts', String(upPort)], {}, upPort, 0);
  const port = await freePort();
  const cfg = join(dir, 'gateway.yaml');
  writeFileSync(cfg, benchConfigYaml(`http://127.0.0.1:${upPort}`, [`traces: { enabled: ${traces} }`]));
  const args =
    what === 'floor'
      ? [
          '--cpu-prof',
          '--cpu-prof-interval=100',
          `--cpu-prof-dir=${dir}`,
          ...TS_NODE,
          'bench/floor.ts',
          String(port),
          `http://127.0.0.1:${upPort}`,
        ]
      : ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${dir}`, 'dist/main.js'];
  const proc = await startServer(
    what,
    args,
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      GATEWAY_CONFIG: cfg,
      DATABASE_URL: `sqlite:${join(dir, 'gw.db')}`,
      LOG_LEVEL: 'warn',
    },
    port,
    1,
  );
  const body = mode === 'stream' ? BENCH_BODIES.stream : BENCH_BODIES['non-stream'];
  const url = `http://127.0.0.1:${port}/v1/chat/completions`;
  await runLoad(url, body, Number(conc), 3000);
  const from = Number(process.hrtime.bigint() / 1000n);
  const r = await runLoad(url, body, Number(conc), Number(ms));
  const to = Number(process.hrtime.bigint() / 1000n);
  console.log(`rps ${r.rps.toFixed(0)} p50 ${r.p50.toFixed(3)}`);
  await new Promise<void>((ok) => {
    proc.on('exit', () => ok());
    proc.kill('SIGINT');
  });
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile written');
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: Node[];
    startTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  let t = prof.startTime;
  for (const [i, id] of prof.samples.entries()) {
    t += prof.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    const n = byId.get(id);
    if (!n) continue;
    const u = n.callFrame.url.replace(/^.*\/(node_modules|dist|src)\//, '$1/');
    const k = `${n.callFrame.functionName || '(anon)'} ${u}:${n.callFrame.lineNumber}`;
    self.set(k, (self.get(k) ?? 0) + 1);
    total++;
  }
  console.log(`samples in the load window: ${total}`);
  // Sample time to µs per request: the samples are ~100 µs apart over the window.
  const usPer = (to - from) / Math.max(1, total) / Math.max(1, r.requests);
  const busy = total - (self.get('(idle) :-1') ?? 0);
  console.log(`busy µs/request ${(busy * usPer).toFixed(1)}`);
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 45));
  for (const [k, v] of top) console.log(`${(v * usPer).toFixed(2).padStart(7)} µs  ${k}`);
  if (process.env.PROF_OUT) {
    writeFileSync(
      process.env.PROF_OUT,
      JSON.stringify(Object.fromEntries([...self].map(([k, v]) => [k, v * usPer]))),
    );
  }
  console.log(`profile: ${join(dir, file)}`);
  process.exit(0);
}

void main();

/** What the bench scripts share: processes pinned to cores, free ports, CPU from /proc, tables. */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LoadResult } from './load';

export const ROOT = resolve(__dirname, '..');
export const TS_NODE = ['-r', 'ts-node/register/transpile-only'];
const BENCH_MESSAGES = [{ role: 'user', content: 'Say something about foxes and dogs, briefly.' }];
/** The chat request every proxy bench sends, non-stream and stream. */
export const BENCH_BODIES = {
  'non-stream': JSON.stringify({ model: 'bench-model', messages: BENCH_MESSAGES }),
  stream: JSON.stringify({ model: 'bench-model', messages: BENCH_MESSAGES, stream: true }),
};

/** A gateway config routing every model to the bench upstream at `upBase`; `head` lines go first. */
export function benchConfigYaml(upBase: string, head: string[]): string {
  return [
    ...head,
    'providers:',
    `  up: { type: openai, base_url: "${upBase}/v1", api_key: bench-key }`,
    'routes:',
    '  - match: { any: true }',
    '    targets: [ { provider: up } ]',
    '',
  ].join('\n');
}

/** Node options for the gateway processes under test (`BENCH_NODE_FLAGS`, space-separated). */
export const GATEWAY_NODE_ARGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/**
 * Pins a process to one core: all its threads, or only its main thread (so that a worker thread
 * is left to the OS); runs unpinned where taskset is missing.
 */
export function pin(core: number, pid: number, allThreads = true): void {
  try {
    execFileSync('taskset', [...(allThreads ? ['-a'] : []), '-cp', String(core), String(pid)], {
      stdio: 'ignore',
    });
  } catch {
    // taskset missing: run unpinned
  }
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createNetServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => ok(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Starts a node process (pinned to `core` when given); resolves once its /health answers. */
export async function startServer(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
  core?: number,
): Promise<ChildProcess> {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(proc);
  if (core !== undefined) pin(core, proc.pid ?? 0);
  const state = { exited: null as number | null };
  proc.on('exit', (code) => (state.exited = code ?? -1));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (state.exited !== null) throw new Error(`${name} exited with ${String(state.exited)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      await res.arrayBuffer();
      // Threads started during boot (libuv, V8 helpers) get the pin too.
      if (core !== undefined) pin(core, proc.pid ?? 0);
      return proc;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${name} did not start within 60 s`);
}

export function stopAll(): void {
  for (const c of children) c.kill('SIGTERM');
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU ms used so far by a process: its main thread, and all its threads (Linux /proc). */
export function cpuMsOf(pid: number): { main: number; all: number } {
  const read = (path: string): number => {
    try {
      const s = readFileSync(path, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      return ((Number(f[11]) + Number(f[12])) / CLK_TCK) * 1000;
    } catch {
      return NaN;
    }
  };
  return { main: read(`/proc/${pid}/task/${pid}/stat`), all: read(`/proc/${pid}/stat`) };
}

/** Busy CPU ms of the whole machine so far (all cores, /proc/stat). */
function machineBusyMs(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait.
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return (busy / CLK_TCK) * 1000;
  } catch {
    return NaN;
  }
}

/** CPU ms so far of this bench process and every process it started. */
function ownMs(): number {
  let total = cpuMsOf(process.pid).all;
  for (const c of children) if (c.pid && c.exitCode === null) total += cpuMsOf(c.pid).all || 0;
  return total;
}

/**
 * Starts counting the CPU that processes other than the bench's own took while a round ran: a
 * round during which something else on the machine was busy is not comparable with the others.
 * The result is in % of one core over the round.
 */
export function otherCpu(): () => number {
  const t0 = performance.now();
  const m0 = machineBusyMs();
  const o0 = ownMs();
  return () => {
    const elapsed = performance.now() - t0;
    const other = machineBusyMs() - m0 - (ownMs() - o0);
    return elapsed > 0 ? Math.max(0, (100 * other) / elapsed) : NaN;
  };
}

/** A load run with the CPU the process under test spent on it, in µs per request. */
export async function measured(
  pid: number,
  run: () => Promise<LoadResult>,
): Promise<LoadResult & { cpuUsPerReq: number; otherCpuPct: number }> {
  const c0 = cpuMsOf(pid).all;
  const others = otherCpu();
  const r = await run();
  const c1 = cpuMsOf(pid).all;
  return {
    ...r,
    cpuUsPerReq: r.requests > 0 ? ((c1 - c0) * 1000) / r.requests : NaN,
    otherCpuPct: others(),
  };
}

/**
 * The median over rounds of `b[i] / a[i]`, each pair measured one after the other: a slow drift of
 * the machine's speed (other tenants, frequency) moves both sides of a pair alike and cancels.
 */
export function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((x, i) => (b[i] ?? NaN) / x));
}

/** The median of each round's difference `b - a` (paired by round). */
export function pairedDiff(a: number[], b: number[]): number {
  return median(b.map((x, i) => x - (a[i] ?? NaN)));
}

/** The median of the rounds: a round disturbed by other load on the machine does not move it. */
export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

export function fmt(n: number | null | undefined, digits = 2): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

/** A Markdown table: first column left-aligned, the rest right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/**
 * Runs the gateway as a real process (`node -r ts-node/register/transpile-only src/main.ts`), as
 * an operator would: its own environment and config file, stdout/stderr captured, stopped with
 * a signal. Used by the startup, shutdown, scale-out and reliability suites.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const MASTER_KEY = 'test-master-key-0123456789abcdef';

/** The command line of the gateway (node + ts-node + flags + src/main.ts); `-r x.ts` in flags works. */
export function gatewayArgs(nodeArgs: string[] = []): string[] {
  return ['-r', require.resolve('ts-node/register/transpile-only'), ...nodeArgs, join(ROOT, 'src/main.ts')];
}

export interface GatewayProcessOptions {
  /** YAML written to `<dir>/gateway.yaml` (GATEWAY_CONFIG); omitted: GATEWAY_CONFIG from `env`. */
  config?: string;
  /** Extra environment (wins over the defaults below). Only PATH is inherited from the test. */
  env?: Record<string, string | undefined>;
  /** Working directory; default: a new temp folder, removed by `cleanup()`. */
  dir?: string;
  /** Node flags before the script (e.g. `--expose-gc`). */
  nodeArgs?: string[];
  /** How long to wait for the listening line and /health (default 90 s: ts-node on a loaded box). */
  startTimeoutMs?: number;
  /** Also wait until stdout matches this (e.g. the cluster primary's "listening on … (N workers)"). */
  ready?: RegExp;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GatewayProcess {
  url: string;
  /** `${url}/v1` for the OpenAI SDK. */
  baseURL: string;
  pid: number;
  dir: string;
  masterKey: string;
  databaseUrl: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<ExitStatus>;
  /** Sends `signal` and waits (bounded) for the exit code; SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** Removes the temp folder (when this helper created it). */
  cleanup(): void;
}

/** Defaults: sqlite in the folder, a fixed master key, a free port, HOST loopback, info logs. */
function baseEnv(dir: string, options: GatewayProcessOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: `sqlite:${join(dir, 'gateway.db')}`,
    GATEWAY_MASTER_KEY: MASTER_KEY,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
  };
  if (options.config !== undefined) {
    const path = join(dir, 'gateway.yaml');
    writeFileSync(path, options.config);
    env.GATEWAY_CONFIG = path;
  }
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

/** GET `url`; resolves with the status, or 0 when nothing answers. */
export function httpStatus(url: string, timeoutMs = 2000): Promise<number> {
  return new Promise((done) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(0));
    req.end();
  });
}

async function waitForHealth(url: string, deadline: number, exited: () => boolean): Promise<void> {
  while (Date.now() < deadline && !exited()) {
    if ((await httpStatus(`${url}/health`)) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway at ${url} did not answer /health`);
}

/** Starts the gateway and resolves once it answers /health; rejects with its output if it does not. */
export async function spawnGateway(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'gw-proc-'));
  const env = baseEnv(dir, options);
  // A port chosen here (the OS's pick, released at once), so readiness does not depend on logs.
  if (env.PORT === '0') env.PORT = String(await freePort());
  const child = spawn(process.execPath, gatewayArgs(options.nodeArgs), {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
  });
  child.stderr.on('data', (d: string) => {
    err += d;
  });
  let hasExited = false;
  const exited = new Promise<ExitStatus>((r) =>
    child.on('exit', (code, signal) => {
      hasExited = true;
      r({ code, signal });
    }),
  );
  const cleanup = (): void => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  const url = `http://127.0.0.1:${env.PORT}`;
  try {
    if (options.ready) {
      const ready = options.ready;
      await new Promise<void>((resolveReady, reject) => {
        const poll = setInterval(() => {
          if (ready.test(out)) {
            clearInterval(poll);
            resolveReady();
          } else if (hasExited || Date.now() > deadline) {
            clearInterval(poll);
            reject(new Error(`gateway did not start.\nstdout:\n${out}\nstderr:\n${err}`));
          }
        }, 50);
      });
    }
    await waitForHealth(url, deadline, () => hasExited);
  } catch (e) {
    if (!hasExited) child.kill('SIGKILL');
    await exited;
    cleanup();
    throw new Error(
      `gateway did not start: ${e instanceof Error ? e.message : String(e)}\nstdout:\n${out}\nstderr:\n${err}`,
    );
  }
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', stopTimeoutMs = 60_000): Promise<number | null> => {
    if (!hasExited) child.kill(signal);
    const timer = setTimeout(() => {
      if (!hasExited) child.kill('SIGKILL');
    }, stopTimeoutMs);
    const status = await exited;
    clearTimeout(timer);
    return status.code;
  };
  return {
    url,
    baseURL: `${url}/v1`,
    pid: child.pid ?? -1,
    dir,
    masterKey: env.GATEWAY_MASTER_KEY ?? '',
    databaseUrl: env.DATABASE_URL ?? '',
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop,
    cleanup,
  };
}

/** Runs the gateway to its exit (e.g. a bad config) and returns its code and output. */
export function runGatewaySync(options: GatewayProcessOptions & { timeoutMs?: number }): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'gw-proc-'));
  try {
    const r = spawnSync(process.execPath, gatewayArgs(options.nodeArgs), {
      cwd: dir,
      env: baseEnv(dir, options),
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

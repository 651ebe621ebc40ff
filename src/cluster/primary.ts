/**
 * WORKERS=N (SPEC §1): the primary process of node:cluster. It checks the config, prepares the
 * master key and runs the migrations once, then forks N workers that all serve one port. It holds
 * the rate-limit counters and relays key changes for them over IPC (when REDIS_URL is set the
 * workers use Redis instead), restarts a worker that dies, and on SIGTERM/SIGINT stops every
 * worker gracefully (each finishes its calls and flushes its traces) before exiting.
 */
import { AggregatorRegistry } from 'prom-client';
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { resolveMasterKey } from '../auth/master-key';
import { MemoryRateLimiter } from '../auth/rate-limiter';
import { loadConfig } from '../config/config.loader';
import type { Env } from '../config/env';
import { createDataSource } from '../database/data-source';
import { ENTITIES, MIGRATIONS } from '../database/schema';
import type { Logger } from '../observability/logger';
import { builtinRegistry } from '../providers/builtin';
import { CLUSTER_ENV, toPrimary, type ToWorker } from './messages';

/** Longest wait for the workers to stop (each bounds its own drain at 30 s). */
const STOP_TIMEOUT_MS = 45_000;
/** A worker that dies sooner than this after its start counts as a crash loop. */
const QUICK_DEATH_MS = 5_000;
const MAX_QUICK_DEATHS = 5;

/** Runs the one-time preparation: config check, master key, migrations. Throws on failure. */
export async function prepare(env: Env, processEnv: NodeJS.ProcessEnv): Promise<void> {
  loadConfig(resolve(env.GATEWAY_CONFIG), { env: processEnv, registry: builtinRegistry() });
  resolveMasterKey({ envKey: env.GATEWAY_MASTER_KEY, databaseUrl: env.DATABASE_URL });
  const ds = createDataSource(env.DATABASE_URL, ENTITIES, MIGRATIONS);
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}

/** PORT=0 means "any free port": the primary picks one so every worker (and restarts) share it. */
async function concretePort(port: number, host: string): Promise<number> {
  if (port !== 0) return port;
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, host, () => {
      const address = probe.address();
      const chosen = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => done(chosen));
    });
  });
}

export interface PrimaryOptions {
  env: Env;
  logger: Logger;
}

export async function runPrimary({ env, logger }: PrimaryOptions): Promise<void> {
  await prepare(env, process.env);
  const port = await concretePort(env.PORT, env.HOST);
  const limiter = new MemoryRateLimiter();
  // Every worker's /metrics, summed (counters, gauges, histograms) into one scrape.
  const aggregator = new AggregatorRegistry();
  const started = new Map<number, number>();
  const serving = new Set<number>();
  let announced = false;
  let stopping = false;
  let quickDeaths = 0;

  const send = (w: Worker, m: ToWorker): void => {
    if (w.isConnected()) w.send(m);
  };

  const fork = (): void => {
    const w = cluster.fork({ PORT: String(port), [CLUSTER_ENV]: String(process.pid) });
    started.set(w.id, Date.now());
    w.on('message', (raw: unknown) => {
      const m = toPrimary(raw);
      if (!m) return;
      switch (m.gw) {
        case 'admit':
          void limiter
            .admit(m.keyId, m.limits, m.now)
            .then((decision) => send(w, { gw: 'decision', seq: m.seq, decision }));
          break;
        case 'tokens':
          limiter.addTokens(m.keyId, m.tokens, m.now);
          break;
        case 'key-event':
          if (m.event.type === 'revoked') limiter.forget(m.event.id);
          for (const other of Object.values(cluster.workers ?? {})) {
            if (other && other.id !== w.id) send(other, { gw: 'key-event', event: m.event });
          }
          break;
        case 'metrics':
          aggregator.clusterMetrics().then(
            (text) => send(w, { gw: 'metrics', seq: m.seq, text, error: null }),
            (err: unknown) =>
              send(w, {
                gw: 'metrics',
                seq: m.seq,
                text: null,
                error: err instanceof Error ? err.message : String(err),
              }),
          );
          break;
        case 'serving':
          serving.add(w.id);
          if (!announced && serving.size >= env.WORKERS) {
            announced = true;
            logger.info(
              { url: m.url, workers: env.WORKERS },
              `LLM Trace Gateway listening on ${m.url} (${env.WORKERS} workers)`,
            );
          }
          break;
      }
    });
  };

  cluster.on('exit', (w, code, signal) => {
    serving.delete(w.id);
    const lived = Date.now() - (started.get(w.id) ?? 0);
    started.delete(w.id);
    if (stopping) return;
    quickDeaths = lived < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
    if (quickDeaths > MAX_QUICK_DEATHS) {
      logger.error({ worker: w.id, code, signal }, 'workers keep dying at start; stopping');
      void stop('SIGTERM', 1);
      return;
    }
    logger.warn({ worker: w.id, pid: w.process.pid, code, signal }, 'worker died; starting a new one');
    const delay = quickDeaths > 0 ? 500 * quickDeaths : 0;
    setTimeout(fork, delay).unref();
  });

  const stop = async (signal: NodeJS.Signals, exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: each worker finishes its in-flight requests and flushes its traces');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const codes = await Promise.all(
      workers.map(
        (w) =>
          new Promise<number | null>((done) => {
            if (w.isDead()) {
              done(w.process.exitCode ?? null);
              return;
            }
            const timer = setTimeout(() => w.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
            // A worker still starting has no calls and no traces yet: ended by SIGTERM is clean.
            const starting = !serving.has(w.id);
            w.once('exit', (code, signal) => {
              clearTimeout(timer);
              done(starting && signal === 'SIGTERM' ? 0 : code);
            });
            w.process.kill('SIGTERM');
          }),
      ),
    );
    const clean = codes.every((c) => c === 0);
    if (!clean) logger.error({ codes }, 'a worker did not stop cleanly');
    process.exit(clean ? exitCode : 1);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  for (let i = 0; i < env.WORKERS; i++) fork();
}

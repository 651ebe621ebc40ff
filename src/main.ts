/**
 * Entry point: start the gateway, exit non-zero with a clear message on bad config. With
 * WORKERS=N (N > 1) this process becomes the node:cluster primary (src/cluster/primary.ts) and
 * each worker runs the gateway on the shared port.
 */
import 'reflect-metadata';
import cluster from 'node:cluster';
import { startApp } from './app.factory';
import { primaryLink } from './cluster/messages';
import { runPrimary } from './cluster/primary';
import { ConfigError } from './config/config.loader';
import { loadEnv } from './config/env';
import { createLogger } from './observability/logger';

function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`Invalid configuration:\n${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `Failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
}

async function serve(): Promise<void> {
  const running = await startApp();
  const link = primaryLink();
  const worker = cluster.worker;
  if (link && worker) {
    running.logger.info(
      { url: running.url, worker: worker.id, pid: process.pid },
      `worker ${worker.id} serving ${running.url}`,
    );
    link.send({ gw: 'serving', url: running.url });
  } else {
    running.logger.info({ url: running.url }, `LLM Trace Gateway listening on ${running.url}`);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals | 'disconnect'): void => {
    if (stopping) return;
    stopping = true;
    running.logger.info({ signal }, 'stopping: finishing in-flight requests and flushing traces');
    running
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        running.logger.error({ err }, 'error while stopping');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // A worker whose primary is gone stops too (it would otherwise serve without shared limits).
  if (link) process.once('disconnect', () => stop('disconnect'));
}

async function main(): Promise<void> {
  try {
    if (cluster.isPrimary) {
      const env = loadEnv(process.env);
      if (env.WORKERS > 1) {
        await runPrimary({ env, logger: createLogger(env.LOG_LEVEL) });
        return;
      }
    }
    await serve();
  } catch (err) {
    fail(err);
  }
}

void main();

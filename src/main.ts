/** Entry point: start the gateway, exit non-zero with a clear message on bad config. */
import 'reflect-metadata';
import { startApp } from './app.factory';
import { ConfigError } from './config/config.loader';

async function main(): Promise<void> {
  try {
    const running = await startApp();
    running.logger.info({ url: running.url }, `LLM Trace Gateway listening on ${running.url}`);
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
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
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Invalid configuration:\n${(err as Error).message}\n`);
      process.exit(1);
    }
    process.stderr.write(
      `Failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  }
}

void main();

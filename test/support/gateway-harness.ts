/** Starts the whole gateway on port 0 with a config written for the test. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startApp, type RunningApp } from '../../src/app.factory';
import { createLogger } from '../../src/observability/logger';

export interface Harness {
  url: string;
  /** The base URL for the OpenAI SDK: `${url}/v1`. */
  baseURL: string;
  dir: string;
  configPath: string;
  running: RunningApp;
  /** Every log line the gateway wrote. */
  logs: string[];
  /** Rewrites the config file (live reload). */
  writeConfig(yaml: string): void;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Start from this folder (created by the caller) instead of a new temp folder. */
  dir?: string;
}

export async function startGateway(configYaml: string, opts: HarnessOptions = {}): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'gw-test-'));
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(configPath, configYaml);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GATEWAY_CONFIG: configPath,
    DATABASE_URL: `sqlite:${join(dir, 'gateway.db')}`,
    GATEWAY_MASTER_KEY: 'test-master-key-0123456789abcdef',
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  const running = await startApp({ env, port: 0, host: '127.0.0.1', logger: createLogger('info', sink) });
  return {
    url: running.url,
    baseURL: `${running.url}/v1`,
    dir,
    configPath,
    running,
    logs,
    writeConfig: (yaml: string) => writeFileSync(configPath, yaml),
    close: async () => {
      await running.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

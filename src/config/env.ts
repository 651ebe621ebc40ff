/** Typed environment (SPEC §1). `.env` in the working directory fills variables not already set. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { config as readDotenv } from 'dotenv';

export interface Env {
  PORT: number;
  HOST: string;
  GATEWAY_CONFIG: string;
  DATABASE_URL: string;
  GATEWAY_MASTER_KEY: string | undefined;
  REDIS_URL: string | undefined;
  LOG_LEVEL: string;
  TRACE_JSONL: string | undefined;
  WORKERS: number;
  OTEL_EXPORTER_OTLP_ENDPOINT: string | undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

/** Applies `.env` (without overriding) to `target`, then reads the typed values. */
export function loadEnv(target: NodeJS.ProcessEnv = process.env, dotenvPath = resolve('.env')): Env {
  if (existsSync(dotenvPath))
    readDotenv({ path: dotenvPath, processEnv: target, override: false, quiet: true });
  const port = Number(nonEmpty(target.PORT) ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT: "${target.PORT}" is not a port number`);
  const workers = Number(nonEmpty(target.WORKERS) ?? 1);
  return {
    PORT: port,
    HOST: nonEmpty(target.HOST) ?? '127.0.0.1',
    GATEWAY_CONFIG: nonEmpty(target.GATEWAY_CONFIG) ?? 'config/gateway.yaml',
    DATABASE_URL: nonEmpty(target.DATABASE_URL) ?? 'sqlite:./data/gateway.db',
    GATEWAY_MASTER_KEY: nonEmpty(target.GATEWAY_MASTER_KEY),
    REDIS_URL: nonEmpty(target.REDIS_URL),
    LOG_LEVEL: nonEmpty(target.LOG_LEVEL) ?? 'info',
    TRACE_JSONL: nonEmpty(target.TRACE_JSONL),
    WORKERS: Number.isInteger(workers) && workers > 0 ? workers : 1,
    OTEL_EXPORTER_OTLP_ENDPOINT: nonEmpty(target.OTEL_EXPORTER_OTLP_ENDPOINT),
  };
}

/**
 * Typed environment (SPEC §1). A `.env` file in the working directory fills the variables that
 * are not already set; variables already set always win.
 */
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

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v.trim() : undefined;
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  const text = nonEmpty(raw);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new Error(`${name}: "${text}" is not a whole number from ${min} to ${max}`);
  return n;
}

/**
 * Applies `.env` to `target` (without overriding what is set), then reads the typed values.
 * Throws an Error naming the variable when a value is unusable.
 */
export function loadEnv(target: NodeJS.ProcessEnv = process.env, dotenvPath = resolve('.env')): Env {
  if (existsSync(dotenvPath)) {
    readDotenv({ path: dotenvPath, processEnv: target, override: false, quiet: true });
  }
  const logLevel = (nonEmpty(target.LOG_LEVEL) ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new Error(`LOG_LEVEL: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    PORT: integer('PORT', target.PORT, 8080, 0, 65535),
    HOST: nonEmpty(target.HOST) ?? '127.0.0.1',
    GATEWAY_CONFIG: nonEmpty(target.GATEWAY_CONFIG) ?? 'config/gateway.yaml',
    DATABASE_URL: nonEmpty(target.DATABASE_URL) ?? 'sqlite:./data/gateway.db',
    GATEWAY_MASTER_KEY: nonEmpty(target.GATEWAY_MASTER_KEY),
    REDIS_URL: nonEmpty(target.REDIS_URL),
    LOG_LEVEL: logLevel,
    TRACE_JSONL: nonEmpty(target.TRACE_JSONL),
    WORKERS: integer('WORKERS', target.WORKERS, 1, 1, 1024),
    OTEL_EXPORTER_OTLP_ENDPOINT: nonEmpty(target.OTEL_EXPORTER_OTLP_ENDPOINT),
  };
}

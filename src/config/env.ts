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
  /** Prefix of every Redis key and channel, so several gateways (or test runs) can share one Redis. */
  REDIS_PREFIX: string;
  LOG_LEVEL: string;
  TRACE_JSONL: string | undefined;
  WORKERS: number;
  OTEL_EXPORTER_OTLP_ENDPOINT: string | undefined;
  /** Full traces URL; wins over OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: string | undefined;
  /** `k1=v1,k2=v2` sent with every export. */
  OTEL_EXPORTER_OTLP_HEADERS: string | undefined;
  OTEL_SERVICE_NAME: string | undefined;
  /** always_on (default), always_off, traceidratio or parentbased_traceidratio (same here: no parent). */
  OTEL_TRACES_SAMPLER: string | undefined;
  /** The ratio for the ratio samplers, 0..1. */
  OTEL_TRACES_SAMPLER_ARG: string | undefined;
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

function redisPrefix(raw: string | undefined): string {
  const text = nonEmpty(raw);
  if (text === undefined) return 'gw:';
  if (!/^[\x21-\x7e]{1,100}$/.test(text))
    throw new Error(`REDIS_PREFIX: "${text}" must be 1 to 100 printable characters without spaces`);
  return text;
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
    REDIS_PREFIX: redisPrefix(target.REDIS_PREFIX),
    LOG_LEVEL: logLevel,
    TRACE_JSONL: nonEmpty(target.TRACE_JSONL),
    WORKERS: integer('WORKERS', target.WORKERS, 1, 1, 1024),
    OTEL_EXPORTER_OTLP_ENDPOINT: nonEmpty(target.OTEL_EXPORTER_OTLP_ENDPOINT),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: nonEmpty(target.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
    OTEL_EXPORTER_OTLP_HEADERS: nonEmpty(target.OTEL_EXPORTER_OTLP_HEADERS),
    OTEL_SERVICE_NAME: nonEmpty(target.OTEL_SERVICE_NAME),
    OTEL_TRACES_SAMPLER: nonEmpty(target.OTEL_TRACES_SAMPLER),
    OTEL_TRACES_SAMPLER_ARG: nonEmpty(target.OTEL_TRACES_SAMPLER_ARG),
  };
}

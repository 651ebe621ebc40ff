/**
 * Tells the log/span scrubber which literal secrets this gateway holds: provider credentials
 * (again on every config reload), the master key, and credentials inside the environment's URLs
 * and OTLP headers.
 */
import type { GatewayConfig } from '../config/config.types';
import type { SecretScrubber } from './secrets';

const SECRET_NAME = /key|token|secret|passw|auth|cookie|signature|credential/i;

function urlSecrets(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const u = new URL(raw);
    return [decodeURIComponent(u.password), u.password].filter((s) => s !== '');
  } catch {
    return [];
  }
}

function stringsUnder(value: unknown, out: string[], depth = 0): void {
  if (typeof value === 'string') out.push(value);
  else if (value && typeof value === 'object' && depth < 8)
    for (const v of Object.values(value)) stringsUnder(v, out, depth + 1);
}

/** Every credential-like string of the providers' settings. */
export function configSecrets(config: GatewayConfig): string[] {
  const out: string[] = [];
  for (const p of Object.values(config.providers)) {
    if (p.api_key) out.push(p.api_key);
    out.push(...urlSecrets(p.base_url));
    for (const [name, v] of Object.entries(p.headers ?? {})) if (SECRET_NAME.test(name)) out.push(v);
    for (const [name, v] of Object.entries(p.options ?? {})) if (SECRET_NAME.test(name)) stringsUnder(v, out);
  }
  return out;
}

/** Values of a `k1=v1,k2=v2` OTLP headers string (URL-decoded). */
export function otlpHeaderValues(raw: string | undefined): string[] {
  if (!raw) return [];
  const out: string[] = [];
  for (const pair of raw.split(',')) {
    const i = pair.indexOf('=');
    if (i < 0) continue;
    const v = pair.slice(i + 1).trim();
    out.push(v);
    try {
      out.push(decodeURIComponent(v));
    } catch {
      // not URL-encoded
    }
  }
  return out;
}

export interface EnvSecretValues {
  GATEWAY_MASTER_KEY?: string | undefined;
  DATABASE_URL?: string | undefined;
  REDIS_URL?: string | undefined;
  OTEL_EXPORTER_OTLP_HEADERS?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_HEADERS?: string | undefined;
}

export function envSecrets(env: EnvSecretValues, masterKey?: string): string[] {
  return [
    env.GATEWAY_MASTER_KEY,
    masterKey,
    ...urlSecrets(env.DATABASE_URL),
    ...urlSecrets(env.REDIS_URL),
    ...otlpHeaderValues(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...otlpHeaderValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  ].filter((s): s is string => typeof s === 'string' && s !== '');
}

/** Registers the secrets now and after each config reload; returns the unsubscribe function. */
export function trackSecrets(
  scrubber: SecretScrubber,
  sourceId: string,
  env: EnvSecretValues,
  masterKey: string | undefined,
  config: {
    current: { config: GatewayConfig };
    onChange(cb: (c: { config: GatewayConfig }) => void): () => void;
  },
): () => void {
  scrubber.set(`${sourceId}:env`, envSecrets(env, masterKey));
  scrubber.set(`${sourceId}:config`, configSecrets(config.current.config));
  return config.onChange((c) => scrubber.set(`${sourceId}:config`, configSecrets(c.config)));
}

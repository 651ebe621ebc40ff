/**
 * OTLP/HTTP export settings from the environment (the standard OTEL_* variables). No endpoint:
 * null, and the SDK is never loaded.
 */
export interface OtelEnv {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_HEADERS?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
  OTEL_TRACES_SAMPLER?: string | undefined;
  OTEL_TRACES_SAMPLER_ARG?: string | undefined;
}

export interface OtelSettings {
  /** Where spans are POSTed (…/v1/traces). */
  url: string;
  headers: Record<string, string>;
  serviceName: string;
  /** Share of calls that get spans, decided by trace id (1: every call). */
  ratio: number;
}

export const DEFAULT_SERVICE_NAME = 'llm-trace-gateway';

/** `k1=v1,k2=v2` (values URL-encoded, per the OTLP exporter spec); malformed pairs are skipped. */
export function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    const name = pair.slice(0, i).trim();
    let value = pair.slice(i + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep as written
    }
    if (name !== '') out[name] = value;
  }
  return out;
}

/** OTEL_TRACES_SAMPLER(_ARG) → the share of calls traced; throws on a value it does not know. */
export function samplerRatio(sampler: string | undefined, arg: string | undefined): number {
  const name = (sampler ?? 'always_on').trim().toLowerCase();
  switch (name) {
    case 'always_on':
    case 'parentbased_always_on':
      return 1;
    case 'always_off':
    case 'parentbased_always_off':
      return 0;
    case 'traceidratio':
    case 'parentbased_traceidratio': {
      if (arg === undefined || arg.trim() === '') return 1;
      const r = Number(arg);
      if (!Number.isFinite(r) || r < 0 || r > 1)
        throw new Error(`OTEL_TRACES_SAMPLER_ARG: "${arg}" is not a ratio from 0 to 1`);
      return r;
    }
    default:
      throw new Error(
        `OTEL_TRACES_SAMPLER: "${name}" is not one of always_on, always_off, traceidratio, parentbased_traceidratio`,
      );
  }
}

export function otelSettings(env: OtelEnv): OtelSettings | null {
  const tracesUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  let url: string;
  if (tracesUrl) url = tracesUrl;
  else if (base) url = `${base.replace(/\/+$/, '')}/v1/traces`;
  else return null;
  const parsed = new URL(url); // throws on a malformed endpoint: reported at start
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT: "${parsed.protocol}" is not http: or https:`);
  return {
    url,
    headers: parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME,
    ratio: samplerRatio(env.OTEL_TRACES_SAMPLER, env.OTEL_TRACES_SAMPLER_ARG),
  };
}

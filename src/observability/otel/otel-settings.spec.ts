import { randomUUID } from 'node:crypto';
import { loadEnv } from '../../config/env';
import { sampled } from './otel-calls';
import { otelSettings, parseOtlpHeaders, samplerRatio } from './otel-settings';

describe('otelSettings', () => {
  it('is null without an endpoint', () => {
    expect(otelSettings({})).toBeNull();
  });

  it('appends /v1/traces to the base endpoint; the traces endpoint is used as given', () => {
    expect(otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })?.url).toBe(
      'http://c:4318/v1/traces',
    );
    expect(
      otelSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://t/x',
      })?.url,
    ).toBe('https://t/x');
  });

  it('reads the service name and the headers', () => {
    const s = otelSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_SERVICE_NAME: 'edge-gw',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc, x-tenant = t1,broken',
    });
    expect(s).toEqual({
      url: 'http://c:4318/v1/traces',
      serviceName: 'edge-gw',
      headers: { authorization: 'Bearer abc', 'x-tenant': 't1' },
      ratio: 1,
    });
    expect(otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' })?.serviceName).toBe('llm-trace-gateway');
    expect(parseOtlpHeaders('=v,k=%zz')).toEqual({ k: '%zz' });
  });

  it('reads the sampler', () => {
    expect(samplerRatio(undefined, undefined)).toBe(1);
    expect(samplerRatio('always_off', undefined)).toBe(0);
    expect(samplerRatio('traceidratio', '0.25')).toBe(0.25);
    expect(samplerRatio('ParentBased_TraceIdRatio', '0.5')).toBe(0.5);
    expect(() => samplerRatio('traceidratio', '2')).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => samplerRatio('jaeger_remote', undefined)).toThrow(/OTEL_TRACES_SAMPLER/);
    const ids = Array.from({ length: 4000 }, () => randomUUID());
    const kept = ids.filter((id) => sampled(id, 0.25)).length;
    expect(kept).toBeGreaterThan(800);
    expect(kept).toBeLessThan(1200);
    expect(ids.every((id) => sampled(id, 1))).toBe(true);
    expect(ids.some((id) => sampled(id, 0))).toBe(false);
  });

  it('refuses an endpoint that is not http(s)', () => {
    expect(() => otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://c:4317' })).toThrow(/not http/);
    expect(() => otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow();
  });

  it('loadEnv carries the OTEL variables', () => {
    const env = loadEnv(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces',
        OTEL_EXPORTER_OTLP_HEADERS: 'a=b',
        OTEL_SERVICE_NAME: 'svc',
      },
      '/nonexistent/.env',
    );
    expect(otelSettings(env)).toEqual({
      url: 'http://c:4318/v1/traces',
      headers: { a: 'b' },
      serviceName: 'svc',
      ratio: 1,
    });
  });
});

import { loadEnv } from '../../config/env';
import { otelSettings, parseOtlpHeaders } from './otel-settings';

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
    });
    expect(otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' })?.serviceName).toBe('llm-trace-gateway');
    expect(parseOtlpHeaders('=v,k=%zz')).toEqual({ k: '%zz' });
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
    });
  });
});

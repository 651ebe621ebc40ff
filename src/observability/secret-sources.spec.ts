import type { GatewayConfig } from '../config/config.types';
import { configSecrets, envSecrets, otlpHeaderValues } from './secret-sources';

describe('secret sources', () => {
  it('takes provider keys, credential-named headers and options, and URL passwords', () => {
    const config = {
      providers: {
        a: {
          id: 'a',
          type: 'openai',
          api_key: 'sk-a',
          base_url: 'https://user:p%40ss@host/v1',
          headers: { 'x-team': 'team-a', 'x-portkey-api-key': 'pk-1' },
          timeout_ms: 1,
          options: { bot_token: 'bt', region: 'eu' },
        },
      },
    } as unknown as GatewayConfig;
    expect(configSecrets(config).sort()).toEqual(['bt', 'p%40ss', 'p@ss', 'pk-1', 'sk-a'].sort());
  });

  it('takes the master key, URL passwords and OTLP header values from the environment', () => {
    expect(
      envSecrets(
        {
          GATEWAY_MASTER_KEY: 'mk',
          DATABASE_URL: 'postgres://u:dbpass@h/db',
          REDIS_URL: 'redis://:rpass@h:6379',
          OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20tok,x-a=b',
        },
        'generated',
      ),
    ).toEqual(expect.arrayContaining(['mk', 'generated', 'dbpass', 'rpass', 'Bearer tok', 'Bearer%20tok']));
    expect(otlpHeaderValues('bad,x=%E0%A4%A')).toEqual(['%E0%A4%A']);
  });
});

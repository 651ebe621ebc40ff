import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadEnv } from './env';

const dir = mkdtempSync(join(tmpdir(), 'gw-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NO_FILE = join(dir, 'absent.env');

describe('loadEnv', () => {
  it('gives the documented defaults', () => {
    expect(loadEnv({}, NO_FILE)).toEqual({
      PORT: 8080,
      HOST: '127.0.0.1',
      GATEWAY_CONFIG: 'config/gateway.yaml',
      DATABASE_URL: 'sqlite:./data/gateway.db',
      GATEWAY_MASTER_KEY: undefined,
      REDIS_URL: undefined,
      REDIS_PREFIX: 'gw:',
      LOG_LEVEL: 'info',
      TRACE_JSONL: undefined,
      WORKERS: 1,
      OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
    });
  });

  it('reads and types every variable', () => {
    expect(
      loadEnv(
        {
          PORT: '0',
          HOST: '0.0.0.0',
          GATEWAY_CONFIG: '/etc/gw.yaml',
          DATABASE_URL: 'postgres://u@h/db',
          GATEWAY_MASTER_KEY: 'mk',
          REDIS_URL: 'redis://127.0.0.1:6379',
          REDIS_PREFIX: 'gw-eu:',
          LOG_LEVEL: 'DEBUG',
          TRACE_JSONL: './t.jsonl',
          WORKERS: '4',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        },
        NO_FILE,
      ),
    ).toEqual({
      PORT: 0,
      HOST: '0.0.0.0',
      GATEWAY_CONFIG: '/etc/gw.yaml',
      DATABASE_URL: 'postgres://u@h/db',
      GATEWAY_MASTER_KEY: 'mk',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'gw-eu:',
      LOG_LEVEL: 'debug',
      TRACE_JSONL: './t.jsonl',
      WORKERS: 4,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
    });
  });

  it('treats empty values as unset', () => {
    const env = loadEnv({ PORT: '', REDIS_URL: '  ', GATEWAY_MASTER_KEY: '' }, NO_FILE);
    expect(env.PORT).toBe(8080);
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.GATEWAY_MASTER_KEY).toBeUndefined();
  });

  it('names a variable whose value is unusable', () => {
    expect(() => loadEnv({ PORT: 'http' }, NO_FILE)).toThrow(
      'PORT: "http" is not a whole number from 0 to 65535',
    );
    expect(() => loadEnv({ PORT: '70000' }, NO_FILE)).toThrow(/^PORT: /);
    expect(() => loadEnv({ WORKERS: '0' }, NO_FILE)).toThrow(/^WORKERS: "0"/);
    expect(() => loadEnv({ REDIS_PREFIX: 'a b' }, NO_FILE)).toThrow(/^REDIS_PREFIX: "a b"/);
    expect(() => loadEnv({ LOG_LEVEL: 'loud' }, NO_FILE)).toThrow(
      /^LOG_LEVEL: "loud" is not one of fatal, error/,
    );
  });

  it('fills unset variables from .env without overriding those already set', () => {
    const file = join(dir, '.env');
    writeFileSync(
      file,
      '# comment\nPORT=9191\nHOST=10.0.0.1\nOPENAI_API_KEY="sk-from-file"\nLOG_LEVEL=warn\n',
    );
    const target: NodeJS.ProcessEnv = { HOST: '127.0.0.2' };
    const env = loadEnv(target, file);
    expect(env.PORT).toBe(9191);
    expect(env.HOST).toBe('127.0.0.2');
    expect(env.LOG_LEVEL).toBe('warn');
    // The variables are applied to the environment, so the config file's ${VAR} can see them.
    expect(target.OPENAI_API_KEY).toBe('sk-from-file');
    expect(target.HOST).toBe('127.0.0.2');
  });

  it('reads .env from the working directory by default', () => {
    const cwd = process.cwd();
    writeFileSync(join(dir, '.env'), 'GATEWAY_CONFIG=from-cwd.yaml\n');
    try {
      process.chdir(dir);
      const target: NodeJS.ProcessEnv = {};
      expect(loadEnv(target).GATEWAY_CONFIG).toBe('from-cwd.yaml');
    } finally {
      process.chdir(cwd);
    }
  });

  it('.env.example lists every variable, each under a comment, and loads as the defaults', () => {
    const file = resolve(__dirname, '../../.env.example');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const names = lines.filter((l) => !l.startsWith('#')).map((l) => l.split('=')[0]);
    const envNames = Object.keys(loadEnv({}, NO_FILE));
    const providerNames = ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY'];
    expect(names).toEqual(
      expect.arrayContaining([...envNames, ...providerNames, 'AZURE_API_KEY', 'COZE_API_KEY']),
    );
    lines.forEach((line, i) => {
      if (!line.startsWith('#')) expect(`${lines[i - 1]}`).toMatch(/^# \S/);
    });
    expect(loadEnv({}, file)).toEqual(loadEnv({}, NO_FILE));
  });
});

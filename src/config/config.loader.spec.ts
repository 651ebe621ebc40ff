import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { builtinRegistry } from '../providers/builtin';
import { ConfigError, loadConfig, substituteEnv } from './config.loader';
import { ConfigService } from './config.service';

const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
const EXAMPLE_PLUGIN = resolve(__dirname, '../../examples/plugins/echo-provider.js');

function load(yaml: string, env: NodeJS.ProcessEnv = {}, name = 'c.yaml') {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return loadConfig(path, { env, registry: builtinRegistry() });
}

function faults(yaml: string): string[] {
  try {
    load(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.faults;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config loader', () => {
  it('replaces ${VAR} and ${VAR:-default} from the environment', () => {
    expect(substituteEnv({ a: '${X}', b: ['${Y:-dflt}', 'k-${X}-${Z}'] }, { X: 'x' })).toEqual({
      a: 'x',
      b: ['dflt', 'k-x-'],
    });
    const c = load(
      'providers:\n  o: { type: openai, api_key: "${KEY}", base_url: "${BASE:-http://h/v1}" }\nroutes: []\n',
      { KEY: 'k1' },
    );
    expect(c.config.providers.o?.api_key).toBe('k1');
    expect(c.config.providers.o?.base_url).toBe('http://h/v1');
  });

  it('fills defaults', () => {
    const c = load(
      'providers:\n  m: { type: mock, delay_ms: 5 }\nroutes:\n  - match: { any: true }\n    targets: [ { provider: m } ]\n',
      { TRACE_JSONL: '/tmp/t.jsonl' },
    );
    expect(c.config.server.body_limit_mb).toBe(20);
    expect(c.config.auth.require_client_key).toBe(false);
    expect(c.config.traces).toEqual({
      enabled: true,
      store_bodies: true,
      retention_days: 30,
      jsonl: '/tmp/t.jsonl',
    });
    expect(c.config.providers.m).toMatchObject({
      id: 'm',
      headers: {},
      timeout_ms: 600000,
      options: { delay_ms: 5 },
    });
    expect(c.config.routes[0]).toEqual({
      match: { any: true },
      targets: [{ provider: 'm', priority: 0, weight: 1 }],
      fallback: [],
    });
  });

  it('names the path of every fault, all at once', () => {
    const f = faults(`
providers:
  a: { type: openai }
  b: { type: nosuch }
routes:
  - match: { exact: x }
    targets: [ { provider: a } ]
  - match: { regex: "([" }
    targets: [ { provider: a } ]
  - match: { exact: y }
    targets: [ { provider: a }, { provider: azure-west } ]
  - match: { exact: z, prefix: q }
    targets: [ { provider: a, weight: -1 } ]
    transforms: { max_tokens_cap: 10, frobnicate: true }
`);
    expect(f).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^providers\.b\.type: unknown adapter type "nosuch"/),
        expect.stringMatching(/^routes\[1\]\.match\.regex: invalid regular expression/),
        'routes[2].targets[1].provider: unknown provider "azure-west"',
        expect.stringMatching(/^routes\[3\]\.match: needs exactly one of/),
        expect.stringMatching(/^routes\[3\]\.targets\[0\]\.weight: /),
        'routes[3].transforms.frobnicate: unknown key',
      ]),
    );
  });

  it("runs an adapter type's own checks", () => {
    expect(faults('providers:\n  az: { type: azure }\nroutes: []\n')).toEqual([
      expect.stringMatching(/^providers\.az: base_url: required for type azure/),
    ]);
  });

  it('reports an unreadable file and invalid YAML clearly', () => {
    expect(() => loadConfig(join(dir, 'missing.yaml'), { env: {}, registry: builtinRegistry() })).toThrow(
      /cannot read the config file/,
    );
    expect(faults('routes: [ {')[0]).toMatch(/invalid YAML/);
  });

  it('validates the shipped config/gateway.yaml', () => {
    const c = loadConfig(resolve(__dirname, '../../config/gateway.yaml'), {
      env: {},
      registry: builtinRegistry(),
    });
    expect(Object.keys(c.config.providers)).toEqual(expect.arrayContaining(['mock', 'openai']));
  });
});

describe('plugins', () => {
  it("registers the example plugin's adapter type, which then works", async () => {
    const c = load(
      `plugins: [ "${EXAMPLE_PLUGIN}" ]\nproviders:\n  e: { type: echo }\nroutes:\n  - match: { any: true }\n    targets: [ { provider: e } ]\n`,
    );
    const adapter = c.registry.create(c.config.providers.e!, {
      http: { request: () => Promise.reject(new Error('unused')) },
    });
    const ctx = { signal: new AbortController().signal, requestId: 'r1' };
    const res = await adapter.chat({ model: 'x', messages: [{ role: 'user', content: 'hello there' }] }, ctx);
    expect(res.choices[0]?.message.content).toBe('HELLO THERE');
    let text = '';
    for await (const chunk of await adapter.streamChat(
      { model: 'x', messages: [{ role: 'user', content: 'a b' }] },
      ctx,
    )) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('A B');
  });

  it('fails validation with a clear message for a missing file, a module that throws, or a wrong shape', () => {
    writeFileSync(join(dir, 'throws.js'), 'throw new Error("boom at load")');
    writeFileSync(join(dir, 'shape.js'), 'module.exports = { hello: 1 }');
    expect(faults('plugins: [ ./nope.js ]\nroutes: []\n')[0]).toMatch(/^plugins\[0\]: plugin file not found/);
    expect(faults('plugins: [ ./throws.js ]\nroutes: []\n')[0]).toMatch(
      /^plugins\[0\]: plugin failed to load: boom at load/,
    );
    expect(faults('plugins: [ ./shape.js ]\nroutes: []\n')[0]).toMatch(
      /^plugins\[0\]: plugin has the wrong shape/,
    );
  });
});

describe('ConfigService', () => {
  it('applies a valid edit, refuses an invalid one and keeps the running config', () => {
    const path = join(dir, 'live.yaml');
    const good =
      'providers:\n  m: { type: mock }\nroutes:\n  - match: { exact: one }\n    targets: [ { provider: m } ]\n';
    writeFileSync(path, good);
    const reload = () => loadConfig(path, { env: {}, registry: builtinRegistry() });
    const warnings: string[] = [];
    const logger = {
      info: () => undefined,
      error: () => undefined,
      warn: (o: object) => warnings.push(JSON.stringify(o)),
    };
    const svc = new ConfigService(reload(), logger, reload);
    const first = svc.current;
    writeFileSync(path, good.replace('one', 'two'));
    expect(svc.refresh()).toBe(true);
    expect(svc.current.config.routes[0]?.match).toEqual({ exact: 'two' });
    expect(first.config.routes[0]?.match).toEqual({ exact: 'one' });
    writeFileSync(path, good.replace('provider: m', 'provider: ghost'));
    expect(svc.refresh()).toBe(false);
    expect(svc.current.config.routes[0]?.match).toEqual({ exact: 'two' });
    expect(warnings.join()).toContain('unknown provider \\"ghost\\"');
    svc.close();
  });
});

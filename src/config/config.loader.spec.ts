import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fakeRegistry } from '../../test/support/fake-adapters';
import { ConfigError, loadConfig, substituteEnv } from './config.loader';

const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MOCK_ROUTE = 'routes:\n  - match: { any: true }\n    targets: [ { provider: m } ]\n';

function write(yaml: string, name = 'c.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  return loadConfig(write(yaml), { env, registry: fakeRegistry() });
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

describe('substituteEnv', () => {
  it('replaces ${VAR} and ${VAR:-default} in every string, leaving other values alone', () => {
    expect(
      substituteEnv(
        { a: '${X}', b: ['${Y:-dflt}', 'k-${X}-${Z}'], n: 3, t: true, z: null, c: { d: '${X:-no}' } },
        { X: 'x' },
      ),
    ).toEqual({ a: 'x', b: ['dflt', 'k-x-'], n: 3, t: true, z: null, c: { d: 'x' } });
  });

  it('makes an unset ${VAR} without default an empty string, and an empty one takes the default', () => {
    expect(substituteEnv('[${NOPE}]', {})).toBe('[]');
    expect(substituteEnv('${EMPTY:-d}', { EMPTY: '' })).toBe('d');
    expect(substituteEnv('${A:-}', { A: 'set' })).toBe('set');
    expect(substituteEnv('${A:-http://h:1/v1}', {})).toBe('http://h:1/v1');
  });
});

describe('loadConfig', () => {
  it('substitutes environment variables in the file, with and without default', () => {
    const c = load(
      'providers:\n  o: { type: openai, api_key: "${KEY}", base_url: "${BASE:-http://h/v1}" }\n' +
        '  p: { type: openai, api_key: "${UNSET_KEY}" }\nroutes: []\n',
      { KEY: 'k1' },
    );
    expect(c.config.providers.o?.api_key).toBe('k1');
    expect(c.config.providers.o?.base_url).toBe('http://h/v1');
    expect(c.config.providers.p?.api_key).toBeUndefined();
  });

  it('fills every default', () => {
    const before = Date.now();
    const path = write(
      `providers:\n  m: { type: mock, delay_ms: 5, default_max_tokens: 100 }\n${MOCK_ROUTE}`,
    );
    const c = loadConfig(path, { env: { TRACE_JSONL: '/tmp/t.jsonl' }, registry: fakeRegistry() });
    expect(c.path).toBe(path);
    expect(c.loadedAt).toBeGreaterThanOrEqual(before);
    expect(c.config.server).toEqual({ body_limit_mb: 20 });
    expect(c.config.auth).toEqual({ require_client_key: false });
    expect(c.config.traces).toEqual({
      enabled: true,
      store_bodies: true,
      retention_days: 30,
      jsonl: '/tmp/t.jsonl',
    });
    expect(c.config.providers.m).toEqual({
      id: 'm',
      type: 'mock',
      headers: {},
      timeout_ms: 600000,
      default_max_tokens: 100,
      options: { delay_ms: 5 },
    });
    expect(c.config.routes).toEqual([
      { match: { any: true }, targets: [{ provider: 'm', priority: 0, weight: 1 }], fallback: [] },
    ]);
    expect(c.config.plugins).toEqual([]);
    expect(c.config.alerts).toEqual([]);
  });

  it('keeps the values the file gives', () => {
    const c = load(
      `
server: { body_limit_mb: 5 }
auth: { require_client_key: true }
traces: { store_bodies: false, retention_days: 0, jsonl: ./t.jsonl }
providers:
  m: { type: mock, headers: { x-team: a, x-n: 7 }, timeout_ms: 1000 }
routes:
  - match: { regex: "^o[1-9]" }
    targets:
      - { provider: m, model: up, priority: 1, weight: 2.5, transforms: { max_tokens_cap: 9 } }
    fallback: [ other ]
    transforms: { stop: [ END ], image_to_text: { model: vision } }
alerts:
  - { name: errs, when: error_rate, above: 0.5, window_s: 60, webhook: "http://127.0.0.1:9/hook" }
`,
      { TRACE_JSONL: '/ignored' },
    );
    expect(c.config.server.body_limit_mb).toBe(5);
    expect(c.config.auth.require_client_key).toBe(true);
    expect(c.config.traces).toMatchObject({ store_bodies: false, retention_days: 0, jsonl: './t.jsonl' });
    expect(c.config.providers.m).toMatchObject({ headers: { 'x-team': 'a', 'x-n': '7' }, timeout_ms: 1000 });
    expect(c.config.routes[0]).toEqual({
      match: { regex: '^o[1-9]' },
      targets: [{ provider: 'm', model: 'up', priority: 1, weight: 2.5, transforms: { max_tokens_cap: 9 } }],
      fallback: ['other'],
      transforms: { stop: ['END'], image_to_text: { model: 'vision' } },
    });
    expect(c.config.alerts).toEqual([
      { name: 'errs', when: 'error_rate', above: 0.5, window_s: 60, webhook: 'http://127.0.0.1:9/hook' },
    ]);
  });

  it('reads every match kind', () => {
    const c = load(`
providers: { m: { type: mock } }
routes:
  - { match: { exact: a }, targets: [ { provider: m } ] }
  - { match: { keyword: b }, targets: [ { provider: m } ] }
  - { match: { prefix: c- }, targets: [ { provider: m } ] }
  - { match: { regex: "^d" }, targets: [ { provider: m } ] }
  - { match: { any: true }, targets: [ { provider: m } ] }
`);
    expect(c.config.routes.map((r) => r.match)).toEqual([
      { exact: 'a' },
      { keyword: 'b' },
      { prefix: 'c-' },
      { regex: '^d' },
      { any: true },
    ]);
  });

  it('returns a copy of the registry and leaves the one passed in untouched', () => {
    const registry = fakeRegistry();
    const c = loadConfig(write(`providers: { m: { type: mock } }\n${MOCK_ROUTE}`), { env: {}, registry });
    expect(c.registry).not.toBe(registry);
    expect(c.registry.types().sort()).toEqual(registry.types().sort());
  });

  it('validates the shipped config/gateway.yaml, whose last route sends any model to the mock', () => {
    const c = loadConfig(resolve(__dirname, '../../config/gateway.yaml'), {
      env: {},
      registry: fakeRegistry(),
    });
    expect(Object.keys(c.config.providers).sort()).toEqual(['mock', 'openai']);
    expect(c.config.providers.openai?.base_url).toBe('https://api.openai.com/v1');
    expect(c.config.providers.openai?.api_key).toBeUndefined();
    expect(c.config.routes.map((r) => r.match)).toEqual([
      { exact: 'mock' },
      { prefix: 'gpt-' },
      { any: true },
    ]);
    expect(c.config.routes.at(-1)?.targets).toEqual([{ provider: 'mock', priority: 0, weight: 1 }]);
  });

  it('takes the shipped openai base URL and key from the environment', () => {
    const c = loadConfig(resolve(__dirname, '../../config/gateway.yaml'), {
      env: { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', OPENAI_API_KEY: 'sk-test' },
      registry: fakeRegistry(),
    });
    expect(c.config.providers.openai).toMatchObject({
      base_url: 'http://127.0.0.1:1/v1',
      api_key: 'sk-test',
    });
  });
});

describe('config faults', () => {
  const ok = 'providers:\n  a: { type: openai }\n';

  it('names an unknown provider with the path of the target', () => {
    expect(
      faults(`${ok}routes:
  - { match: { exact: x }, targets: [ { provider: a } ] }
  - { match: { exact: y }, targets: [ { provider: a } ] }
  - { match: { exact: z }, targets: [ { provider: azure-west } ] }
`),
    ).toEqual(['routes[2].targets[0].provider: unknown provider "azure-west"']);
  });

  it('does not take an inherited property name for a provider', () => {
    expect(
      faults(`${ok}routes:\n  - { match: { exact: x }, targets: [ { provider: toString } ] }\n`),
    ).toEqual(['routes[0].targets[0].provider: unknown provider "toString"']);
  });

  it('refuses a provider id that would touch object prototypes', () => {
    expect(faults('providers:\n  __proto__: { type: mock }\nroutes: []\n')).toEqual([
      'providers.__proto__: reserved name, choose another provider id',
    ]);
  });

  it('names an unknown adapter type and lists the known ones', () => {
    const f = faults('providers:\n  b: { type: nosuch }\nroutes: []\n');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatch(
      /^providers\.b\.type: unknown adapter type "nosuch" \(known: openai, azure, .*mock\)$/,
    );
  });

  it('names a regex that does not compile', () => {
    expect(faults(`${ok}routes:\n  - { match: { regex: "([" }, targets: [ { provider: a } ] }\n`)).toEqual([
      expect.stringMatching(/^routes\[0\]\.match\.regex: invalid regular expression \(.+\)$/),
    ]);
  });

  it('asks for exactly one match kind', () => {
    expect(
      faults(`${ok}routes:\n  - { match: { exact: z, prefix: q }, targets: [ { provider: a } ] }\n`),
    ).toEqual([
      'routes[0].match: needs exactly one of exact, keyword, prefix, regex, any (found exact, prefix)',
    ]);
    expect(faults(`${ok}routes:\n  - { match: { exact: }, targets: [ { provider: a } ] }\n`)).toEqual([
      'routes[0].match: needs exactly one of exact, keyword, prefix, regex, any (found none)',
    ]);
  });

  it('refuses a transform key it does not know, on a route and on a target', () => {
    expect(
      faults(`${ok}routes:
  - match: { any: true }
    targets: [ { provider: a, transforms: { max_token_cap: 1 } } ]
    transforms: { max_tokens_cap: 10, frobnicate: true }
`),
    ).toEqual([
      'routes[0].targets[0].transforms.max_token_cap: unknown key',
      'routes[0].transforms.frobnicate: unknown key',
    ]);
  });

  it('checks transform values', () => {
    expect(
      faults(`${ok}routes:
  - match: { any: true }
    targets: [ { provider: a } ]
    transforms: { merge_consecutive_user: both, image_to_text: { prompt: hi } }
`),
    ).toEqual([
      expect.stringMatching(/^routes\[0\]\.transforms\.merge_consecutive_user: must be one of/),
      'routes[0].transforms.image_to_text.model: required',
    ]);
  });

  it('asks for positive weights, integer priorities and non-empty fallback names', () => {
    expect(
      faults(`${ok}routes:
  - match: { any: true }
    targets: [ { provider: a, weight: 0 }, { provider: a, weight: -1, priority: 1.5 } ]
    fallback: [ "", 7 ]
`),
    ).toEqual([
      'routes[0].targets[0].weight: must be a positive number',
      'routes[0].targets[1].priority: must be an integer number',
      'routes[0].targets[1].weight: must be a positive number',
      'routes[0].fallback[0]: must be a non-empty string',
      'routes[0].fallback[1]: must be a non-empty string',
    ]);
  });

  it('checks alerts', () => {
    const f = faults(`${ok}routes: []
alerts:
  - { name: a, when: latency, above: 1, window_s: 60 }
  - { name: b, when: error_rate, above: -1, window_s: 0, webhook: "not a url" }
`);
    expect(f).toEqual([
      expect.stringMatching(
        /^alerts\[0\]\.when: must be one of the following values: error_rate, p95_latency_ms$/,
      ),
      expect.stringMatching(/^alerts\[1\]\.above: /),
      expect.stringMatching(/^alerts\[1\]\.window_s: /),
      expect.stringMatching(/^alerts\[1\]\.webhook: /),
    ]);
  });

  it('refuses unknown keys outside provider entries, and a route without targets', () => {
    expect(
      faults(`${ok}srever: { body_limit_mb: 1 }
routes:
  - { match: { any: true }, targets: [] }
`),
    ).toEqual(['srever: unknown key', expect.stringMatching(/^routes\[0\]\.targets: .*at least 1/)]);
  });

  it("runs an adapter type's own checks, prefixed with the provider's path", () => {
    expect(faults('providers:\n  az: { type: azure, api_version: "1" }\nroutes: []\n')).toEqual([
      'providers.az: base_url: required for type azure',
    ]);
  });

  it('checks provider fields', () => {
    expect(
      faults('providers:\n  o: { type: openai, timeout_ms: -5, headers: { x-a: { b: 1 } } }\nroutes: []\n'),
    ).toEqual([
      'providers.o.timeout_ms: must be a positive number',
      'providers.o.headers.x-a: must be a string',
    ]);
    expect(faults('providers:\n  o: { base_url: x }\nroutes: []\n')[0]).toMatch(/^providers\.o\.type: /);
  });

  it('reports several faults at once, one per line of the message, each starting with its path', () => {
    let error: unknown;
    try {
      load(`
providers:
  a: { type: openai }
  b: { type: nosuch }
routes:
  - { match: { regex: "([" }, targets: [ { provider: a } ] }
  - { match: { exact: y }, targets: [ { provider: a }, { provider: azure-west, weight: 0 } ] }
  - { match: { exact: z, prefix: q }, targets: [ { provider: a } ], transforms: { frobnicate: 1 } }
`);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as ConfigError).message.split('\n');
    expect(lines).toEqual((error as ConfigError).faults);
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line).toMatch(/^(providers|routes)[.[][^ ]*: /);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^providers\.b\.type: unknown adapter type "nosuch"/),
        expect.stringMatching(/^routes\[0\]\.match\.regex: invalid regular expression/),
        'routes[1].targets[1].provider: unknown provider "azure-west"',
        'routes[1].targets[1].weight: must be a positive number',
        expect.stringMatching(/^routes\[2\]\.match: needs exactly one of/),
        'routes[2].transforms.frobnicate: unknown key',
      ]),
    );
  });

  it('reports an unreadable file, invalid YAML and a document that is not a mapping', () => {
    expect(() => loadConfig(join(dir, 'missing.yaml'), { env: {}, registry: fakeRegistry() })).toThrow(
      /missing\.yaml: cannot read the config file \(ENOENT\)/,
    );
    expect(faults('routes: [ {')[0]).toMatch(/: invalid YAML/);
    expect(faults('- a\n- b\n')).toEqual(['(root): the config file must hold a YAML mapping']);
  });

  it('keeps secrets from the YAML source out of a parse error', () => {
    const f = faults('providers:\n  o: { type: openai, api_key: sk-secret-123\nroutes: []\n');
    expect(f.join('\n')).not.toContain('sk-secret-123');
  });
});

describe('config plugins', () => {
  const plugins = join(dir, 'plugins');
  mkdirSync(plugins, { recursive: true });
  writeFileSync(
    join(plugins, 'solo.js'),
    "module.exports = { type: 'solo', validate: (s) => s.options.room ? [] : ['room: required'], create: () => ({}) };",
  );

  it('loads plugins from paths relative to the config file and validates their providers', () => {
    const sub = join(dir, 'nested');
    mkdirSync(sub, { recursive: true });
    const path = join(sub, 'gw.yaml');
    writeFileSync(path, 'plugins: [ ../plugins/solo.js ]\nproviders:\n  s: { type: solo }\nroutes: []\n');
    expect(() => loadConfig(path, { env: {}, registry: fakeRegistry() })).toThrow(
      new ConfigError(['providers.s: room: required']),
    );
    writeFileSync(
      path,
      'plugins: [ ../plugins/solo.js ]\nproviders:\n  s: { type: solo, room: 1 }\nroutes: []\n',
    );
    const c = loadConfig(path, { env: {}, registry: fakeRegistry() });
    expect(c.config.plugins).toEqual(['../plugins/solo.js']);
    expect(c.registry.has('solo')).toBe(true);
  });

  it('asks for plugin paths as non-empty strings', () => {
    expect(faults('plugins: [ ./plugins/solo.js, 7, "" ]\nproviders: {}\nroutes: []\n')).toEqual([
      'plugins[1]: must be a non-empty string',
      'plugins[2]: must be a non-empty string',
    ]);
  });

  it('passes a plugin fault on with its plugins[i] path', () => {
    const f = faults('plugins: [ ./plugins/solo.js, ./plugins/none.js ]\nproviders: {}\nroutes: []\n');
    expect(f).toEqual([expect.stringMatching(/^plugins\[1\]: plugin file not found: .*none\.js$/)]);
  });
});

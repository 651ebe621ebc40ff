import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fakeRegistry } from '../../test/support/fake-adapters';
import type { ChatCompletionChunk } from '../common/openai.types';
import { loadConfig } from '../config/config.loader';
import type { CallContext } from './adapter.interface';
import { loadPlugins } from './plugin-loader';
import { AdapterRegistry } from './registry';

const dir = mkdtempSync(join(tmpdir(), 'gw-plugins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXAMPLES = resolve(__dirname, '../../examples/plugins');
const DEF = (type: string) => `{ type: '${type}', create: () => ({ type: '${type}' }) }`;

function plugin(name: string, source: string): string {
  writeFileSync(join(dir, name), source);
  return `./${name}`;
}

function loadError(paths: string[], registry = new AdapterRegistry()): string {
  try {
    loadPlugins(paths, dir, registry);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected loadPlugins to throw');
}

function ctx(): CallContext {
  return { signal: new AbortController().signal, requestId: 'req-1' };
}

describe('the example echo plugin', () => {
  function echoProvider() {
    const path = join(dir, 'echo.yaml');
    writeFileSync(
      path,
      `plugins: [ ${join(EXAMPLES, 'echo-provider.js')} ]
providers:
  shout: { type: echo }
routes:
  - { match: { any: true }, targets: [ { provider: shout } ] }
`,
    );
    const loaded = loadConfig(path, { env: {}, registry: fakeRegistry() });
    const settings = loaded.config.providers.shout!;
    return loaded.registry.create(settings, {
      http: { request: () => Promise.reject(new Error('no http')) },
    });
  }

  it('loads through the config and fills in its capabilities', () => {
    const adapter = echoProvider();
    expect(adapter.type).toBe('echo');
    expect(adapter.capabilities).toEqual({
      chat: true,
      streaming: 'simulated',
      completions: false,
      embeddings: false,
      tools: false,
      vision: false,
      listModels: false,
      passthrough: false,
    });
  });

  it('answers with the last user message upper-cased, with usage', async () => {
    const seen: unknown[] = [];
    const res = await echoProvider().chat(
      {
        model: 'echo-1',
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'FIRST' },
          { role: 'user', content: [{ type: 'text', text: 'hello there' }] },
        ],
      },
      { ...ctx(), onUpstreamRequest: (b) => seen.push(b) },
    );
    expect(res).toMatchObject({ object: 'chat.completion', model: 'echo-1' });
    expect(res.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'HELLO THERE' });
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage).toEqual({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
    expect(seen).toHaveLength(1);
  });

  it('streams OpenAI chunks that join to the same text, then a usage chunk', async () => {
    const chunks: ChatCompletionChunk[] = [];
    const stream = await echoProvider().streamChat(
      { model: 'echo-1', stream: true, messages: [{ role: 'user', content: 'a  b c' }] },
      ctx(),
    );
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('A  B C');
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
    });
  });
});

describe('loadPlugins', () => {
  it('accepts register(registry), a default definition, an `adapter` list, or the definition itself', () => {
    const registry = new AdapterRegistry();
    loadPlugins(
      [
        plugin(
          'reg.js',
          `exports.register = (r) => { r.register(${DEF('a1')}); r.register(${DEF('a2')}); };`,
        ),
        plugin('dflt.js', `exports.default = ${DEF('b')};`),
        plugin('list.js', `exports.adapter = [${DEF('c1')}, ${DEF('c2')}];`),
        plugin('self.js', `module.exports = ${DEF('d')};`),
      ],
      dir,
      registry,
    );
    expect(registry.types().sort()).toEqual(['a1', 'a2', 'b', 'c1', 'c2', 'd']);
  });

  it('resolves relative paths from the given folder, absolute ones as they are, and tolerates a repeat', () => {
    plugin('rel.js', `module.exports = ${DEF('rel')};`);
    for (const spec of ['rel.js', './rel', join(dir, 'rel.js')]) {
      const registry = new AdapterRegistry();
      loadPlugins([spec], dir, registry);
      expect(registry.types()).toEqual(['rel']);
    }
    const twice = new AdapterRegistry();
    loadPlugins(['./rel.js', join(dir, 'rel.js')], dir, twice);
    expect(twice.types()).toEqual(['rel']);
  });

  it('names a missing file', () => {
    expect(loadError(['./gone.js'])).toBe(`plugins[0]: plugin file not found: ${join(dir, 'gone.js')}`);
    expect(loadError([plugin('ok.js', `module.exports = ${DEF('ok')};`), 'no-such-package'])).toMatch(
      /^plugins\[1\]: plugin file not found: .*no-such-package$/,
    );
  });

  it('names a module that throws while loading', () => {
    expect(loadError([plugin('throws.js', 'throw new Error("boom at load");')])).toBe(
      `plugins[0]: plugin failed to load (${join(dir, 'throws.js')}): boom at load`,
    );
    expect(loadError([plugin('syntax.js', 'module.exports = {')])).toMatch(
      /^plugins\[0\]: plugin failed to load \(.*syntax\.js\): /,
    );
  });

  it('names a module of the wrong shape', () => {
    const sources = [
      'module.exports = { hello: 1 };',
      "module.exports = { type: 'x' };",
      "exports.adapter = [{ type: 'x', create() {} }, { type: '' , create() {} }];",
      'module.exports = 42;',
    ];
    sources.forEach((source, i) => {
      expect(loadError([plugin(`shape${i}.js`, source)])).toMatch(
        /^plugins\[0\]: plugin has the wrong shape: export /,
      );
    });
  });

  it('names a register() that throws, registers nothing, or registers a bad definition', () => {
    expect(loadError([plugin('r1.js', 'exports.register = () => { throw new Error("nope"); };')])).toBe(
      'plugins[0]: plugin register() failed: nope',
    );
    expect(loadError([plugin('r2.js', 'exports.register = () => {};')])).toBe(
      'plugins[0]: plugin register() registered no adapter type',
    );
    expect(loadError([plugin('r3.js', "exports.register = (r) => r.register({ type: 'x' });")])).toMatch(
      /^plugins\[0\]: plugin register\(\) failed: register\(\) needs an object with a non-empty string `type`/,
    );
  });

  it('refuses a type that is already registered, built-in or from an earlier plugin', () => {
    expect(loadError([plugin('dup.js', `module.exports = ${DEF('openai')};`)], fakeRegistry())).toBe(
      'plugins[0]: adapter type "openai" is already registered',
    );
    const one = plugin('one.js', `module.exports = ${DEF('same')};`);
    const two = plugin('two.js', `module.exports = ${DEF('same')};`);
    expect(loadError([one, two])).toBe('plugins[1]: adapter type "same" is already registered');
  });

  it('gives the same registry the same result when loaded again (a config reload)', () => {
    const source = plugin('again.js', `module.exports = ${DEF('again')};`);
    const first = new AdapterRegistry();
    const second = new AdapterRegistry();
    loadPlugins([source], dir, first);
    loadPlugins([source], dir, second);
    expect(second.get('again')).toBe(first.get('again'));
  });
});

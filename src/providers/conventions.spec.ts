/**
 * Adapter conventions, checked over the built-in registry rather than by a reviewer (STYLE habit
 * 6): every adapter type has its folder with the same file names, recorded fixtures with a note on
 * where their format comes from, replayed by a spec, and a row in the contract suite's table.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACT_ROWS } from '../../test/contract/adapters.table';
import type { ProviderSettings } from './adapter.interface';
import { BUILTIN_ADAPTERS } from './builtin';
import { UpstreamHttp } from '../common/http';

const ROOT = __dirname;

/**
 * What each adapter folder holds beyond `<type>.adapter.ts`. An adapter with a wire format of its
 * own converts requests, responses and streams in files of those names; one that speaks OpenAI's
 * format lists only what differs (`extends`); the `mock` adapter talks to no platform.
 */
const LAYOUT: Record<string, { files: string[]; extends?: string; fixtures: boolean }> = {
  openai: { files: ['request', 'stream'], fixtures: true },
  azure: { files: ['request', 'response'], extends: 'openai', fixtures: true },
  anthropic: { files: ['request', 'response', 'stream', 'types'], fixtures: true },
  gemini: { files: ['request', 'response', 'stream', 'types'], fixtures: true },
  coze: { files: ['request', 'response', 'stream', 'types'], fixtures: true },
  mock: { files: [], fixtures: false },
};

function specsText(): string {
  const out: string[] = [];
  for (const dir of readdirSync(ROOT, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(ROOT, dir.name))) {
      if (f.endsWith('.spec.ts')) out.push(readFileSync(join(ROOT, dir.name, f), 'utf8'));
    }
  }
  return out.join('\n');
}

const settings = (type: string): ProviderSettings => ({
  id: `conv-${type}`,
  type,
  base_url: 'http://127.0.0.1:1',
  headers: {},
  timeout_ms: 1000,
  options: {},
});

describe('adapter conventions (over the built-in registry)', () => {
  const types = BUILTIN_ADAPTERS.map((d) => d.type);
  const specs = specsText();

  it('knows the layout of every built-in type, and no other', () => {
    expect(Object.keys(LAYOUT).sort()).toEqual([...types].sort());
  });

  describe.each(types.map((t) => [t]))('%s', (type) => {
    const folder = join(ROOT, type);
    const layout = LAYOUT[type] as (typeof LAYOUT)[string];

    it('lives in its own folder, with <type>.adapter.ts exporting a definition of that type', () => {
      expect(existsSync(join(folder, `${type}.adapter.ts`))).toBe(true);
      const def = BUILTIN_ADAPTERS.find((d) => d.type === type);
      const adapter = def?.create(settings(type), { http: new UpstreamHttp() });
      expect(adapter?.type).toBe(type);
    });

    it('has the files of its kind, and specs beside them', () => {
      for (const f of layout.files) expect(existsSync(join(folder, `${type}.${f}.ts`))).toBe(true);
      if (layout.extends) {
        const source = readFileSync(join(folder, `${type}.adapter.ts`), 'utf8');
        expect(source).toContain(`../${layout.extends}/${layout.extends}.adapter`);
      }
      const ownSpecs = readdirSync(folder).filter((f) => f.endsWith('.spec.ts'));
      if (type !== 'mock') expect(ownSpecs.length).toBeGreaterThan(0);
    });

    it('keeps recorded fixtures with a note on their source, each replayed by a spec', () => {
      const dir = join(folder, '__fixtures__');
      if (!layout.fixtures) {
        expect(existsSync(dir)).toBe(false);
        return;
      }
      const note = readFileSync(join(dir, 'README.md'), 'utf8');
      expect(note).toMatch(/reference|guide|documented/i);
      const files = readdirSync(dir).filter((f) => f !== 'README.md');
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        expect(note).toContain(f);
        expect(specs).toContain(f);
      }
    });

    it('has a row in the contract suite', () => {
      expect(CONTRACT_ROWS.some((r) => r.type === type)).toBe(true);
    });
  });

  it('runs the contract suite only against built-in types', () => {
    for (const row of CONTRACT_ROWS) expect(types).toContain(row.type);
  });
});

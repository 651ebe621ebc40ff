/**
 * Plugins: modules listed under `plugins:` that register adapter types the way built-ins do.
 * A module exports `register(registry)`, or an AdapterDefinition (or a list of them) as its
 * default / `adapter` / `adapters` export.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { AdapterDefinition } from './adapter.interface';
import type { AdapterRegistry } from './registry';

function isDefinition(v: unknown): v is AdapterDefinition {
  if (!v || typeof v !== 'object') return false;
  const d = v as Partial<AdapterDefinition>;
  return typeof d.type === 'string' && d.type.length > 0 && typeof d.create === 'function';
}

function definitionsOf(mod: unknown): AdapterDefinition[] | null {
  const m = mod as Record<string, unknown> | null;
  const candidates: unknown[] = m && typeof m === 'object' ? [m.default, m.adapter, m.adapters, m] : [m];
  for (const c of candidates) {
    if (isDefinition(c)) return [c];
    if (Array.isArray(c) && c.length > 0 && c.every(isDefinition)) return c;
  }
  return null;
}

function loadOne(path: string, baseDir: string, registry: AdapterRegistry): void {
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  if (!existsSync(full)) throw new Error(`plugin file not found: ${full}`);
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(full);
  } catch (err) {
    throw new Error(`plugin failed to load: ${err instanceof Error ? err.message : String(err)}`);
  }
  const register = (mod as { register?: unknown } | null)?.register;
  if (typeof register === 'function') {
    const before = registry.types().length;
    try {
      (register as (r: { register(def: AdapterDefinition): void }) => void)({
        register: (def) => {
          if (!isDefinition(def))
            throw new Error('register() needs an object with a non-empty `type` and a `create` function');
          registry.register(def);
        },
      });
    } catch (err) {
      throw new Error(`plugin register() failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (registry.types().length === before) throw new Error('plugin register() registered no adapter type');
    return;
  }
  const defs = definitionsOf(mod);
  if (!defs) {
    throw new Error(
      'plugin has the wrong shape: export register(registry), or an adapter definition { type, create } (or a list of them)',
    );
  }
  for (const def of defs) registry.register(def);
}

/** Loads every plugin into `registry`; throws an Error whose message starts with `plugins[i]: `. */
export function loadPlugins(paths: readonly string[], baseDir: string, registry: AdapterRegistry): void {
  paths.forEach((path, i) => {
    try {
      loadOne(path, baseDir, registry);
    } catch (err) {
      throw new Error(`plugins[${i}]: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

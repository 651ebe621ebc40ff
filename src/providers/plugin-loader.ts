/**
 * Plugins (SPEC §8): modules listed under `plugins:` that register adapter types the way
 * built-ins do. A module (anything `require` loads) exports either `register(registry)`, or an
 * AdapterDefinition — or a list of them — as its default, `adapter` or `adapters` export (or as
 * the module itself).
 */
import { isAbsolute, resolve } from 'node:path';
import type { AdapterDefinition } from './adapter.interface';
import type { AdapterRegistry } from './registry';

/** What a plugin's `register()` receives: only the means to add adapter types. */
export interface PluginRegistrar {
  register(def: AdapterDefinition): void;
}

const SHAPE_HINT =
  'export register(registry), or an adapter definition { type, create } (or a list of them) as default / adapter';

function isDefinition(v: unknown): v is AdapterDefinition {
  if (v === null || typeof v !== 'object') return false;
  const d = v as Record<string, unknown>;
  return (
    typeof d.type === 'string' &&
    d.type.length > 0 &&
    typeof d.create === 'function' &&
    (d.validate === undefined || typeof d.validate === 'function')
  );
}

function definitionsOf(mod: unknown): AdapterDefinition[] | null {
  const m = mod !== null && typeof mod === 'object' ? (mod as Record<string, unknown>) : null;
  const candidates: unknown[] = m ? [m.default, m.adapter, m.adapters, m] : [mod];
  for (const c of candidates) {
    if (isDefinition(c)) return [c];
    if (Array.isArray(c) && c.length > 0 && c.every(isDefinition)) return c;
  }
  return null;
}

function registerFunctionOf(mod: unknown): ((r: PluginRegistrar) => unknown) | null {
  if (mod === null || (typeof mod !== 'object' && typeof mod !== 'function')) return null;
  const m = mod as Record<string, unknown>;
  if (typeof m.register === 'function') return m.register as (r: PluginRegistrar) => unknown;
  const d = m.default;
  if (d !== null && typeof d === 'object' && typeof (d as Record<string, unknown>).register === 'function') {
    return (d as { register: (r: PluginRegistrar) => unknown }).register.bind(d);
  }
  return null;
}

/**
 * Relative paths are taken from the config file's folder; a name that is no file there
 * (`my-plugin`, `@scope/plugin`) resolves like `require` from that folder.
 */
function resolvePlugin(spec: string, baseDir: string): string {
  const full = isAbsolute(spec) ? spec : resolve(baseDir, spec);
  const explicit = isAbsolute(spec) || spec.startsWith('./') || spec.startsWith('../') || spec === '.';
  for (const target of explicit ? [full] : [full, spec]) {
    try {
      return require.resolve(target, { paths: [baseDir] });
    } catch {
      // try the next form
    }
  }
  throw new Error(`plugin file not found: ${full}`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

function loadOne(spec: string, baseDir: string, registry: AdapterRegistry, taken: Set<string>): void {
  const file = resolvePlugin(spec, baseDir);
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file);
  } catch (err) {
    throw new Error(`plugin failed to load (${file}): ${errorText(err)}`);
  }
  const add = (def: unknown): void => {
    if (!isDefinition(def)) {
      throw new Error('register() needs an object with a non-empty string `type` and a `create` function');
    }
    if (taken.has(def.type)) {
      if (registry.get(def.type) === def) return; // the same module listed twice
      throw new Error(`adapter type "${def.type}" is already registered`);
    }
    taken.add(def.type);
    registry.register(def);
  };

  const register = registerFunctionOf(mod);
  if (register) {
    let added = 0;
    try {
      const result = register({
        register: (def) => {
          add(def);
          added++;
        },
      });
      if (result instanceof Promise) throw new Error('register() must run synchronously');
    } catch (err) {
      throw new Error(`plugin register() failed: ${errorText(err)}`);
    }
    if (added === 0) throw new Error('plugin register() registered no adapter type');
    return;
  }
  const defs = definitionsOf(mod);
  if (!defs) throw new Error(`plugin has the wrong shape: ${SHAPE_HINT}`);
  for (const def of defs) add(def);
}

/**
 * Loads every plugin into `registry` (give it a copy: see `AdapterRegistry.clone`). A missing
 * file, a module that throws while loading, or a wrong shape throws an Error whose message
 * starts with `plugins[i]: `. A plugin may not replace a type that is already registered.
 */
export function loadPlugins(paths: readonly string[], baseDir: string, registry: AdapterRegistry): void {
  const taken = new Set(registry.types());
  paths.forEach((spec, i) => {
    try {
      loadOne(spec, baseDir, registry, taken);
    } catch (err) {
      throw new Error(`plugins[${i}]: ${errorText(err)}`);
    }
  });
}

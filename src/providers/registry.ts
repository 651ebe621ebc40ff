/** Adapter types by name; built-ins and plugins register the same way. */
import type { AdapterDefinition, AdapterDeps, ProviderAdapter, ProviderSettings } from './adapter.interface';

export class AdapterRegistry {
  private readonly definitions = new Map<string, AdapterDefinition>();

  register(def: AdapterDefinition): void {
    if (!def || typeof def.type !== 'string' || def.type.length === 0 || typeof def.create !== 'function') {
      throw new Error('an adapter definition needs a non-empty string `type` and a `create` function');
    }
    this.definitions.set(def.type, def);
  }

  has(type: string): boolean {
    return this.definitions.has(type);
  }

  get(type: string): AdapterDefinition | undefined {
    return this.definitions.get(type);
  }

  types(): string[] {
    return [...this.definitions.keys()];
  }

  create(settings: ProviderSettings, deps: AdapterDeps): ProviderAdapter {
    const def = this.definitions.get(settings.type);
    if (!def) throw new Error(`unknown adapter type "${settings.type}"`);
    return def.create(settings, deps);
  }

  /** A copy, so that a config load can add plugin types without touching the live registry. */
  clone(): AdapterRegistry {
    const copy = new AdapterRegistry();
    for (const def of this.definitions.values()) copy.register(def);
    return copy;
  }
}

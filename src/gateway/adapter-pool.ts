/** One adapter instance per provider of a loaded config; a reload builds new ones lazily. */
import type { HttpClient } from '../common/http';
import type { ProviderAdapter, ProviderSettings } from '../providers/adapter.interface';
import type { AdapterRegistry } from '../providers/registry';

export class AdapterPool {
  private readonly byRegistry = new WeakMap<AdapterRegistry, WeakMap<ProviderSettings, ProviderAdapter>>();

  constructor(private readonly http: HttpClient) {}

  get(registry: AdapterRegistry, settings: ProviderSettings): ProviderAdapter {
    let cache = this.byRegistry.get(registry);
    if (!cache) {
      cache = new WeakMap();
      this.byRegistry.set(registry, cache);
    }
    let adapter = cache.get(settings);
    if (!adapter) {
      adapter = registry.create(settings, { http: this.http });
      cache.set(settings, adapter);
    }
    return adapter;
  }
}

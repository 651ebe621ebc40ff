/**
 * GET /v1/models: every `exact` route name, plus each provider's own models where
 * `discover_models: true` (fetched concurrently, cached 5 minutes per provider).
 */
import { randomUUID } from 'node:crypto';
import type { Model } from '../common/openai.types';
import type { LoadedConfig } from '../config/config.loader';
import type { ProviderSettings } from '../providers/adapter.interface';
import type { AdapterPool } from './adapter-pool';

const CACHE_MS = 5 * 60_000;
const DISCOVERY_TIMEOUT_MS = 10_000;
const CREATED = Math.floor(Date.now() / 1000);

export class ModelsService {
  private readonly cache = new WeakMap<ProviderSettings, { at: number; models: Promise<Model[]> }>();

  constructor(private readonly pool: AdapterPool) {}

  async list(loaded: LoadedConfig): Promise<Model[]> {
    const seen = new Set<string>();
    const out: Model[] = [];
    const add = (m: Model): void => {
      if (seen.has(m.id)) return;
      seen.add(m.id);
      out.push(m);
    };
    for (const route of loaded.config.routes) {
      if ('exact' in route.match) {
        const owner = route.targets[0]?.provider ?? 'gateway';
        add({ id: route.match.exact, object: 'model', created: CREATED, owned_by: owner });
      }
    }
    const discovering = Object.values(loaded.config.providers).filter((p) => p.discover_models === true);
    const lists = await Promise.all(discovering.map((p) => this.discover(loaded, p)));
    for (const list of lists) for (const m of list) add(m);
    return out;
  }

  private discover(loaded: LoadedConfig, settings: ProviderSettings): Promise<Model[]> {
    const hit = this.cache.get(settings);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.models;
    const adapter = this.pool.get(loaded.registry, settings);
    if (!adapter.listModels) return Promise.resolve([]);
    const signal = AbortSignal.timeout(DISCOVERY_TIMEOUT_MS);
    const apiKey = settings.api_key;
    const models = adapter
      .listModels({ signal, requestId: randomUUID(), ...(apiKey ? { apiKey } : {}) })
      .then((list) => list.map((m) => ({ ...m, owned_by: m.owned_by || settings.id })))
      .catch(() => {
        this.cache.delete(settings);
        return [] as Model[];
      });
    this.cache.set(settings, { at: Date.now(), models });
    return models;
  }
}

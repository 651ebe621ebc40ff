/** Model → ordered attempts: route match, priority, weights, cooldown (SPEC §2 Routing). */
import type { GatewayConfig, RouteConfig, TargetConfig, TransformsConfig } from '../config/config.types';
import type { ProviderSettings } from '../providers/adapter.interface';
import { mergeTransforms } from '../transforms/pipeline';
import { CooldownTracker } from './cooldown';
import { findRoute, upstreamModelFor } from './match';
import { orderTargets, type Random } from './order';

export interface PlannedTarget {
  provider: ProviderSettings;
  upstreamModel: string;
  /** Route transforms with the target's keys replacing the route's. */
  transforms: TransformsConfig | undefined;
  cooldownKey: string;
}

export interface Plan {
  route: RouteConfig;
  /** In the order to try them; shared between calls, so never to be changed by a caller. */
  targets: readonly PlannedTarget[];
}

/** What a model resolves to under one config: its route and its targets, before ordering. */
interface Resolved {
  route: RouteConfig;
  /** Targets in config order, with the config's target beside each planned one. */
  targets: Array<{ config: TargetConfig; planned: PlannedTarget }>;
  /** The planned targets when there is only one order (a single target): no shuffle needed. */
  fixed: PlannedTarget[] | null;
}

/** Models resolved per config object; a reload brings a new config and so a new cache. */
const MAX_MODELS = 1000;

export class RoutePlanner {
  private readonly resolved = new WeakMap<GatewayConfig, Map<string, Resolved | null>>();

  constructor(
    readonly cooldown: CooldownTracker = new CooldownTracker(),
    private readonly random: Random = Math.random,
  ) {}

  /** null when no route matches. Targets in cooldown go last: tried only when nothing else is left. */
  plan(config: GatewayConfig, model: string): Plan | null {
    const r = this.resolve(config, model);
    if (!r) return null;
    let ordered: PlannedTarget[];
    if (r.fixed) {
      ordered = r.fixed;
    } else {
      const byConfig = new Map(r.targets.map((t) => [t.config, t.planned]));
      ordered = [];
      for (const t of orderTargets(
        r.targets.map((x) => x.config),
        this.random,
      )) {
        const planned = byConfig.get(t);
        if (planned) ordered.push(planned);
      }
    }
    let cooling: PlannedTarget[] | null = null;
    for (const t of ordered) {
      if (this.cooldown.isCoolingDown(t.cooldownKey)) (cooling ??= []).push(t);
    }
    if (!cooling) return { route: r.route, targets: ordered };
    const late = cooling;
    return { route: r.route, targets: ordered.filter((t) => !late.includes(t)).concat(late) };
  }

  private resolve(config: GatewayConfig, model: string): Resolved | null {
    let byModel = this.resolved.get(config);
    if (!byModel) {
      byModel = new Map();
      this.resolved.set(config, byModel);
    }
    const hit = byModel.get(model);
    if (hit !== undefined) return hit;
    const route = findRoute(config.routes, model);
    let r: Resolved | null = null;
    if (route) {
      const targets: Resolved['targets'] = [];
      for (const t of route.targets) {
        const planned = this.toPlanned(config, route, t, model);
        if (planned) targets.push({ config: t, planned });
      }
      r = { route, targets, fixed: targets.length <= 1 ? targets.map((t) => t.planned) : null };
    }
    if (byModel.size >= MAX_MODELS) byModel.clear();
    byModel.set(model, r);
    return r;
  }

  private toPlanned(
    config: GatewayConfig,
    route: RouteConfig,
    t: TargetConfig,
    model: string,
  ): PlannedTarget | null {
    const provider = config.providers[t.provider];
    if (!provider) return null;
    const upstreamModel = upstreamModelFor(route, t.model, model);
    return {
      provider,
      upstreamModel,
      transforms:
        route.transforms || t.transforms ? mergeTransforms(route.transforms, t.transforms) : undefined,
      cooldownKey: CooldownTracker.key(provider.id, upstreamModel),
    };
  }
}

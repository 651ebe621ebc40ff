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
  targets: PlannedTarget[];
}

export class RoutePlanner {
  constructor(
    readonly cooldown: CooldownTracker = new CooldownTracker(),
    private readonly random: Random = Math.random,
  ) {}

  /** null when no route matches. Targets in cooldown go last: tried only when nothing else is left. */
  plan(config: GatewayConfig, model: string): Plan | null {
    const route = findRoute(config.routes, model);
    if (!route) return null;
    const ordered = orderTargets(route.targets, this.random);
    const ready: PlannedTarget[] = [];
    const cooling: PlannedTarget[] = [];
    for (const t of ordered) {
      const planned = this.toPlanned(config, route, t, model);
      if (!planned) continue;
      (this.cooldown.isCoolingDown(planned.cooldownKey) ? cooling : ready).push(planned);
    }
    return { route, targets: cooling.length > 0 ? ready.concat(cooling) : ready };
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

/** Target order: by priority (lower first), inside one priority weighted random (SPEC §2). */
import type { TargetConfig } from '../config/config.types';

export type Random = () => number;

/** Weighted random permutation: repeatedly draw one of the remaining items in proportion to weight. */
export function weightedShuffle<T extends { weight: number }>(items: readonly T[], random: Random): T[] {
  if (items.length <= 1) return items.slice();
  const rest = items.slice();
  const out: T[] = [];
  let total = rest.reduce((s, t) => s + t.weight, 0);
  while (rest.length > 0) {
    let r = random() * total;
    let i = 0;
    for (; i < rest.length - 1; i++) {
      r -= (rest[i] as T).weight;
      if (r < 0) break;
    }
    const [picked] = rest.splice(i, 1) as [T];
    total -= picked.weight;
    out.push(picked);
  }
  return out;
}

export function orderTargets(targets: readonly TargetConfig[], random: Random = Math.random): TargetConfig[] {
  if (targets.length <= 1) return targets.slice();
  const byPriority = new Map<number, TargetConfig[]>();
  for (const t of targets) {
    const group = byPriority.get(t.priority);
    if (group) group.push(t);
    else byPriority.set(t.priority, [t]);
  }
  const priorities = [...byPriority.keys()].sort((a, b) => a - b);
  return priorities.flatMap((p) => weightedShuffle(byPriority.get(p) ?? [], random));
}

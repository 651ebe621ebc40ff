import type { GatewayConfig, RouteConfig, TargetConfig } from '../config/config.types';
import type { ProviderSettings } from '../providers/adapter.interface';
import { CooldownTracker } from './cooldown';
import { findRoute, matches, upstreamModelFor } from './match';
import { orderTargets, weightedShuffle } from './order';
import { RoutePlanner } from './planner';

function provider(id: string): ProviderSettings {
  return { id, type: 'mock', headers: {}, timeout_ms: 1000, options: {} };
}

function target(p: string, extra: Partial<TargetConfig> = {}): TargetConfig {
  return { provider: p, priority: 0, weight: 1, ...extra };
}

function config(routes: RouteConfig[], providers: string[]): GatewayConfig {
  return {
    server: { body_limit_mb: 20 },
    auth: { require_client_key: false },
    traces: { enabled: true, store_bodies: true, retention_days: 30 },
    providers: Object.fromEntries(providers.map((p) => [p, provider(p)])),
    plugins: [],
    routes,
    alerts: [],
  };
}

/** A seeded generator so weighted tests are repeatable. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

describe('route matching', () => {
  it.each([
    [{ exact: 'gpt-4o' }, 'gpt-4o', true],
    [{ exact: 'gpt-4o' }, 'gpt-4o-mini', false],
    [{ prefix: 'claude-' }, 'claude-sonnet', true],
    [{ prefix: 'claude-' }, 'xclaude-', false],
    [{ keyword: 'gpt' }, 'my-gpt-model', true],
    [{ keyword: 'gpt' }, 'llama', false],
    [{ regex: '^o[1-9]' }, 'o3-mini', true],
    [{ regex: '^o[1-9]' }, 'gpt-o3', false],
    [{ any: true as const }, 'anything', true],
  ])('%j against %s gives %s', (match, model, expected) => {
    expect(matches(match, model)).toBe(expected);
  });

  it('takes the first route whose match fits', () => {
    const routes: RouteConfig[] = [
      { match: { exact: 'a' }, targets: [target('p1')], fallback: [] },
      { match: { prefix: 'a' }, targets: [target('p2')], fallback: [] },
      { match: { any: true }, targets: [target('p3')], fallback: [] },
    ];
    expect(findRoute(routes, 'a')?.targets[0]?.provider).toBe('p1');
    expect(findRoute(routes, 'ab')?.targets[0]?.provider).toBe('p2');
    expect(findRoute(routes, 'zz')?.targets[0]?.provider).toBe('p3');
    expect(findRoute(routes.slice(0, 2), 'zz')).toBeUndefined();
  });

  it('sends the target model, else the part after a "x/" prefix, else the requested name', () => {
    const coze: RouteConfig = { match: { prefix: 'coze/' }, targets: [target('coze')], fallback: [] };
    const any: RouteConfig = { match: { any: true }, targets: [target('openai')], fallback: [] };
    expect(upstreamModelFor(coze, undefined, 'coze/7351')).toBe('7351');
    expect(upstreamModelFor(coze, 'bot-1', 'coze/7351')).toBe('bot-1');
    expect(upstreamModelFor(any, undefined, 'gpt-4o')).toBe('gpt-4o');
  });
});

describe('target order', () => {
  it('tries lower priority first', () => {
    const ordered = orderTargets([
      target('b', { priority: 1 }),
      target('a', { priority: 0 }),
      target('c', { priority: 2 }),
    ]);
    expect(ordered.map((t) => t.provider)).toEqual(['a', 'b', 'c']);
  });

  it('splits first picks in proportion to the weights over many calls', () => {
    const random = seeded(42);
    const counts: Record<string, number> = { a: 0, b: 0 };
    const targets = [target('a', { weight: 3 }), target('b', { weight: 1 })];
    for (let i = 0; i < 20_000; i++) {
      const first = orderTargets(targets, random)[0]!;
      counts[first.provider]! += 1;
    }
    const share = counts.a! / 20_000;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
  });

  it('keeps every item exactly once in a weighted shuffle', () => {
    const items = [1, 2, 3, 4, 5].map((n) => ({ n, weight: n }));
    const out = weightedShuffle(items, seeded(7));
    expect(out.map((i) => i.n).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('cooldown', () => {
  it('skips a target after 3 consecutive failures for 30 s, and a success resets the count', () => {
    let now = 1_000_000;
    const cd = new CooldownTracker({ now: () => now });
    const k = CooldownTracker.key('p', 'm');
    cd.recordFailure(k);
    cd.recordFailure(k);
    cd.recordSuccess(k);
    cd.recordFailure(k);
    cd.recordFailure(k);
    expect(cd.isCoolingDown(k)).toBe(false);
    cd.recordFailure(k);
    expect(cd.isCoolingDown(k)).toBe(true);
    now += 29_999;
    expect(cd.isCoolingDown(k)).toBe(true);
    now += 2;
    expect(cd.isCoolingDown(k)).toBe(false);
  });
});

describe('RoutePlanner', () => {
  const routes: RouteConfig[] = [
    {
      match: { exact: 'gpt-4o' },
      targets: [target('a', { model: 'm-a' }), target('b', { model: 'm-b', priority: 1 })],
      fallback: ['backup'],
      transforms: { max_tokens_cap: 100, stop: ['x'] },
    },
    {
      match: { exact: 'backup' },
      targets: [target('c', { transforms: { max_tokens_cap: 5 } })],
      fallback: [],
    },
  ];
  const cfg = config(routes, ['a', 'b', 'c']);

  it('returns null when no route matches', () => {
    expect(new RoutePlanner().plan(cfg, 'nope')).toBeNull();
  });

  it('orders targets and merges target transforms over the route transforms', () => {
    const plan = new RoutePlanner().plan(cfg, 'gpt-4o')!;
    expect(plan.targets.map((t) => t.upstreamModel)).toEqual(['m-a', 'm-b']);
    expect(plan.targets[0]!.transforms).toEqual({ max_tokens_cap: 100, stop: ['x'] });
    const backup = new RoutePlanner().plan(cfg, 'backup')!;
    expect(backup.targets[0]!.upstreamModel).toBe('backup');
    expect(backup.targets[0]!.transforms).toEqual({ max_tokens_cap: 5 });
  });

  it('puts a target in cooldown last, and still offers it when nothing else is left', () => {
    const planner = new RoutePlanner();
    const keyA = CooldownTracker.key('a', 'm-a');
    for (let i = 0; i < 3; i++) planner.cooldown.recordFailure(keyA);
    expect(planner.plan(cfg, 'gpt-4o')!.targets.map((t) => t.provider.id)).toEqual(['b', 'a']);
    const single = config(
      [{ match: { any: true }, targets: [target('a', { model: 'm-a' })], fallback: [] }],
      ['a'],
    );
    expect(planner.plan(single, 'x')!.targets.map((t) => t.provider.id)).toEqual(['a']);
  });
});

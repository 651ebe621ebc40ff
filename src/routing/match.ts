/** Which route serves a requested model: the first whose match fits (SPEC §2). */
import type { RouteConfig, RouteMatch } from '../config/config.types';

const regexCache = new WeakMap<RouteMatch, RegExp>();

export function matches(match: RouteMatch, model: string): boolean {
  if ('exact' in match) return match.exact === model;
  if ('prefix' in match) return model.startsWith(match.prefix);
  if ('keyword' in match) return model.includes(match.keyword);
  if ('regex' in match) {
    let re = regexCache.get(match);
    if (!re) {
      re = new RegExp(match.regex);
      regexCache.set(match, re);
    }
    return re.test(model);
  }
  return match.any;
}

export function findRoute(routes: readonly RouteConfig[], model: string): RouteConfig | undefined {
  for (const route of routes) if (matches(route.match, model)) return route;
  return undefined;
}

/** The model name the target receives: its own, or for a prefix route the part after the prefix
 *  when the target names none (`coze/<bot_id>`), else the requested name unchanged. */
export function upstreamModelFor(
  route: RouteConfig,
  targetModel: string | undefined,
  requested: string,
): string {
  if (targetModel) return targetModel;
  if ('prefix' in route.match && route.match.prefix.endsWith('/'))
    return requested.slice(route.match.prefix.length);
  return requested;
}

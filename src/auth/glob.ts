/**
 * Model allow-list patterns (SPEC §4): `*` matches any run of characters, `?` exactly one;
 * everything else is literal. A list with no patterns allows every model.
 */
const cache = new Map<string, RegExp>();

export function globToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    let source = '';
    for (const ch of pattern) {
      if (ch === '*') source += '.*';
      else if (ch === '?') source += '.';
      else source += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
    }
    re = new RegExp(`^${source}$`, 's');
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

export function matchesGlob(pattern: string, value: string): boolean {
  return globToRegExp(pattern).test(value);
}

export function modelAllowed(patterns: readonly string[] | null, model: string): boolean {
  if (!patterns || patterns.length === 0) return true;
  return patterns.some((p) => matchesGlob(p, model));
}

/** Where a caller's key is read from: `Authorization: Bearer`, `x-api-key` or `api-key` (SPEC §3). */
export type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | null {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** The bearer token of the Authorization header, or null. */
export function bearerToken(headers: HeaderBag): string | null {
  const auth = header(headers, 'authorization');
  if (!auth) return null;
  const m = /^Bearer\s+(.+)$/i.exec(auth);
  const token = m?.[1]?.trim();
  return token ? token : null;
}

/** Every credential the caller presented, in order of precedence. */
export function presentedTokens(headers: HeaderBag): string[] {
  const out: string[] = [];
  for (const t of [bearerToken(headers), header(headers, 'x-api-key'), header(headers, 'api-key')]) {
    if (t !== null && !out.includes(t)) out.push(t);
  }
  return out;
}

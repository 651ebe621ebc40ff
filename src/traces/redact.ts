/** Credential-like fields in stored bodies: replaced, whatever their nesting. */
const SECRET_FIELD =
  /^(api[-_]?key|x[-_]api[-_]key|x[-_]goog[-_]api[-_]key|authorization|proxy[-_]authorization|password|passwd|secret|client[-_]secret|access[-_]token|refresh[-_]token)$/i;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/g;
const GATEWAY_KEY = /\bsk-gw-[A-Za-z0-9]{8,}/g;

export const REDACTED = '[redacted]';

function redactString(s: string): string {
  if (s.length < 8 || (!s.includes('Bearer') && !s.includes('sk-gw-'))) return s;
  return s.replace(BEARER, `$1 ${REDACTED}`).replace(GATEWAY_KEY, REDACTED);
}

/** An own property, also for the key "__proto__" (which JSON.parse makes an own property too). */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/**
 * The value with credential fields and bearer tokens replaced: a copy of what had to change, and
 * the value itself (the same reference) when nothing did.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 64) return REDACTED;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const r = redact(v, depth + 1);
      if (r !== v && out === null) out = value.slice(0, i);
      if (out !== null) out.push(r);
    }
    return out ?? value;
  }
  const entries = Object.entries(value);
  let out: Record<string, unknown> | null = null;
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i] as [string, unknown];
    const r = SECRET_FIELD.test(k) && v !== null && v !== '' ? REDACTED : redact(v, depth + 1);
    if (r !== v && out === null) {
      out = {};
      for (let j = 0; j < i; j++) {
        const [pk, pv] = entries[j] as [string, unknown];
        put(out, pk, pv);
      }
    }
    if (out !== null) put(out, k, r);
  }
  return out ?? value;
}

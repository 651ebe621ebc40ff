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

/** A copy with credential fields and bearer tokens replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 64) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_FIELD.test(k) && v !== null && v !== '' ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

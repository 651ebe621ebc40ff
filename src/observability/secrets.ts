/**
 * Credentials kept out of log lines and span attributes, whatever the field they sit in. Two
 * nets: shapes every credential of ours has (Bearer/Basic tokens, `sk-…` keys, Google `AIza…`
 * keys), and the literal values the gateway knows (provider api_keys and header values, the
 * master key, OTLP headers) with their base64 forms at each byte alignment, so a header such as
 * `Basic base64(user:key)` is caught as well. Applied where text leaves the process, never on the
 * request path.
 */
import { Buffer } from 'node:buffer';

export const REDACTED = '[redacted]';

const SHAPES: ReadonlyArray<[RegExp, string]> = [
  [/\b(Bearer|Basic)(\s+|%20)[A-Za-z0-9._~+/=%-]{6,}/gi, `$1$2${REDACTED}`],
  [/\bsk-gw-[A-Za-z0-9_-]{4,}/g, `sk-gw-${REDACTED}`],
  [/\bsk-[A-Za-z0-9][A-Za-z0-9_-]{15,}/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{20,}/g, REDACTED],
];

/** Values shorter than this are not treated as secrets (they would match ordinary words). */
const MIN_SECRET = 8;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The parts of base64(…secret…) that depend only on the secret, at each of the three alignments. */
export function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const total = pad + bytes.length;
    const enc = Buffer.concat([Buffer.alloc(pad), bytes]).toString('base64');
    const start = pad === 0 ? 0 : pad === 1 ? 2 : 3;
    const end = Math.floor(total / 3) * 4;
    const part = enc.slice(start, end);
    if (part.length >= MIN_SECRET) {
      forms.push(part);
      const url = part.replace(/\+/g, '-').replace(/\//g, '_');
      if (url !== part) forms.push(url);
    }
  }
  return forms;
}

/** Every form a value may take in a JSON log line. */
function formsOf(secret: string): string[] {
  const forms = new Set<string>([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  for (const f of base64Forms(secret)) forms.add(f);
  return [...forms].filter((f) => f.length >= MIN_SECRET);
}

export class SecretScrubber {
  private readonly sources = new Map<string, Set<string>>();
  private literal: RegExp | null = null;

  /** Replaces the secrets known under `source` (config reload replaces the provider keys). */
  set(source: string, values: Iterable<string | undefined | null>): void {
    const kept = new Set<string>();
    for (const v of values) if (typeof v === 'string' && v.trim().length >= MIN_SECRET) kept.add(v.trim());
    this.sources.set(source, kept);
    this.rebuild();
  }

  private rebuild(): void {
    const forms = new Set<string>();
    for (const set of this.sources.values()) for (const s of set) for (const f of formsOf(s)) forms.add(f);
    const sorted = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.literal = sorted.length > 0 ? new RegExp(sorted.join('|'), 'g') : null;
  }

  scrub(text: string): string {
    let out = text;
    if (this.literal) out = out.replace(this.literal, REDACTED);
    for (const [re, to] of SHAPES) out = out.replace(re, to);
    return out;
  }
}

/** The process-wide scrubber the logger and the span exporter use. */
export const knownSecrets = new SecretScrubber();

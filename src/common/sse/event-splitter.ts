/**
 * Byte-level SSE event splitting for streams passed through untouched: complete raw events
 * (each with its terminating blank line) come out as the bytes arrive, without decoding text.
 */
const LF = 0x0a;
const CR = 0x0d;

/**
 * Index just past the blank line that ends the first event at or after `from`, or -1. The
 * common `\n\n` is found with a native search; CR line endings (CRLF, lone CR) take a byte scan
 * only when the buffer holds a CR at all.
 */
function eventEnd(buf: Buffer, from: number): number {
  const lf = buf.indexOf('\n\n', from);
  const firstCr = buf.indexOf(CR, from);
  if (firstCr < 0 || (lf >= 0 && lf < firstCr)) return lf < 0 ? -1 : lf + 2;
  let lineStart = from;
  for (let i = from; i < buf.length; i++) {
    const c = buf[i];
    if (c === LF) {
      const contentEnd = i > lineStart && buf[i - 1] === CR ? i - 1 : i;
      if (contentEnd === lineStart) return i + 1;
      lineStart = i + 1;
    } else if (c === CR) {
      if (i + 1 >= buf.length) return -1;
      if (buf[i + 1] === LF) continue;
      if (i === lineStart) return i + 1;
      lineStart = i + 1;
    }
  }
  return -1;
}

export class SseEventSplitter {
  private pending: Buffer | null = null;

  push(buf: Buffer): Buffer[] {
    const data = this.pending ? Buffer.concat([this.pending, buf]) : buf;
    const out: Buffer[] = [];
    let start = 0;
    for (;;) {
      const end = eventEnd(data, start);
      if (end < 0) break;
      out.push(data.subarray(start, end));
      start = end;
    }
    this.pending = start < data.length ? data.subarray(start) : null;
    return out;
  }

  flush(): Buffer | null {
    const rest = this.pending;
    this.pending = null;
    return rest && rest.length > 0 ? rest : null;
  }
}

const EMPTY_CHOICES = Buffer.from('"choices":[]');
const USAGE_OBJECT = Buffer.from('"usage":{');

/**
 * True for the usage-only chunk (`"choices":[]` with a `usage` object) that the gateway asked
 * for on behalf of a client that did not (`stream_options.include_usage`).
 */
export function isUsageOnlyEvent(event: Buffer): boolean {
  return event.includes(EMPTY_CHOICES) && event.includes(USAGE_OBJECT);
}

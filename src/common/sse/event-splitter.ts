/**
 * Byte-level SSE event splitting for streams passed through untouched: complete raw events
 * (each with its terminating blank line) come out as the bytes arrive, without decoding text.
 */
const LF = 0x0a;
const CR = 0x0d;

/**
 * Index just past the blank line that ends the event starting at `from`, or -1 when the buffer
 * holds no complete event. Line endings: LF, CRLF or a lone CR (a CR at the very end waits for
 * the next byte, which may be its LF).
 */
function eventEnd(buf: Buffer, from: number): number {
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
const USAGE_NULL_COMMA = ',"usage":null';
const USAGE_NULL_LEAD = '"usage":null,';

/**
 * For a client that did not ask for `stream_options.include_usage` (the gateway asked on its
 * behalf): drops the usage-only chunk and removes `"usage":null` members; other events are
 * returned as the same Buffer.
 */
export function stripUsageForClient(event: Buffer): Buffer | null {
  if (event.includes(EMPTY_CHOICES) && event.includes('"usage":{')) return null;
  if (!event.includes('"usage":null')) return event;
  const text = event.toString('utf8');
  const edited = text.includes(USAGE_NULL_COMMA)
    ? text.split(USAGE_NULL_COMMA).join('')
    : text.split(USAGE_NULL_LEAD).join('');
  return Buffer.from(edited, 'utf8');
}

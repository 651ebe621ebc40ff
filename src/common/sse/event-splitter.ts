/**
 * Byte-level SSE event splitting for streams passed through untouched: complete raw events
 * (each with its terminating blank line) come out as the bytes arrive, without decoding text.
 * Line ends may be LF, CRLF or a lone CR (the SSE grammar), and may be split across reads.
 */
const LF = 0x0a;
const CR = 0x0d;
const LFLF = Buffer.from('\n\n');

export class SseEventSplitter {
  /** Bytes of the event not yet complete (views of earlier reads, copied only when one ends). */
  private parts: Buffer[] = [];
  /** The scan is at the start of a line (nothing of the current line seen yet). */
  private atLineStart = true;
  /** The last byte was a CR ending a non-blank line: a following LF belongs to it. */
  private afterCr = false;
  /** The last byte was a CR forming a blank line: the event ends there, or after a following LF. */
  private blankCr = false;

  /** Complete events found so far; each is a view of `buf` when it lies wholly inside it. */
  push(buf: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let start = 0;
    let i = 0;
    const emit = (end: number): number => {
      const tail = buf.subarray(start, end);
      out.push(this.parts.length === 0 ? tail : Buffer.concat([...this.parts, tail]));
      this.parts = [];
      this.atLineStart = true;
      this.afterCr = false;
      start = end;
      return end;
    };
    if (buf.length === 0) return out;
    if (this.blankCr) {
      this.blankCr = false;
      i = emit(buf[0] === LF ? 1 : 0);
    } else if (this.afterCr) {
      this.afterCr = false;
      if (buf[0] === LF) i = 1;
    }
    if (buf.indexOf(CR, i) < 0) this.scanLf(buf, i, emit);
    else this.scanBytes(buf, i, emit);
    if (start < buf.length) this.parts.push(buf.subarray(start));
    return out;
  }

  /** True between events: nothing of a next event has been seen (the state of a new splitter). */
  get idle(): boolean {
    return this.parts.length === 0 && this.atLineStart && !this.afterCr && !this.blankCr;
  }

  /** Whatever is left when the stream ends: a last event without its blank line, or null. */
  flush(): Buffer | null {
    const rest = this.parts.length === 0 ? null : Buffer.concat(this.parts);
    this.parts = [];
    this.atLineStart = true;
    this.afterCr = false;
    this.blankCr = false;
    return rest && rest.length > 0 ? rest : null;
  }

  /** Fast path for a read with no CR: native search for the blank line. */
  private scanLf(buf: Buffer, from: number, emit: (end: number) => number): void {
    let i = from;
    while (i < buf.length) {
      if (this.atLineStart && buf[i] === LF) {
        i = emit(i + 1);
        continue;
      }
      const j = buf.indexOf(LFLF, i);
      if (j < 0) {
        this.atLineStart = buf[buf.length - 1] === LF;
        return;
      }
      i = emit(j + 2);
    }
  }

  /** Byte scan when CRs are present. */
  private scanBytes(buf: Buffer, from: number, emit: (end: number) => number): void {
    let i = from;
    while (i < buf.length) {
      const c = buf[i];
      if (c === LF) {
        if (this.afterCr) this.afterCr = false;
        else if (this.atLineStart) {
          i = emit(i + 1);
          continue;
        } else this.atLineStart = true;
      } else if (c === CR) {
        if (this.atLineStart) {
          if (i + 1 >= buf.length) {
            this.blankCr = true;
            return;
          }
          i = emit(buf[i + 1] === LF ? i + 2 : i + 1);
          continue;
        }
        this.atLineStart = true;
        this.afterCr = true;
      } else {
        this.atLineStart = false;
        this.afterCr = false;
      }
      i++;
    }
  }
}

/** Index of the first byte of the value of JSON member `"key"` (whitespace allowed around `:`), or -1. */
function valueIndex(event: Buffer, quotedKey: Buffer, from = 0): { key: number; value: number } | null {
  for (let k = event.indexOf(quotedKey, from); k >= 0; k = event.indexOf(quotedKey, k + 1)) {
    let v = skipSpace(event, k + quotedKey.length);
    if (event[v] !== 0x3a /* : */) continue;
    v = skipSpace(event, v + 1);
    return { key: k, value: v };
  }
  return null;
}

function skipSpace(buf: Buffer, from: number): number {
  let i = from;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  return i;
}

function startsAt(buf: Buffer, at: number, token: Buffer): boolean {
  return at + token.length <= buf.length && buf.compare(token, 0, token.length, at, at + token.length) === 0;
}

const CHOICES_KEY = Buffer.from('"choices"');
const USAGE_KEY = Buffer.from('"usage"');
const NULL = Buffer.from('null');

/**
 * True for the usage-only chunk (`"choices":[]` with a `usage` object) that the gateway asked
 * for on behalf of a client that did not (`stream_options.include_usage`).
 */
export function isUsageOnlyEvent(event: Buffer): boolean {
  const usage = valueIndex(event, USAGE_KEY);
  if (!usage || event[usage.value] !== 0x7b /* { */) return false;
  const choices = valueIndex(event, CHOICES_KEY);
  return (
    !!choices && event[choices.value] === 0x5b /* [ */ && event[skipSpace(event, choices.value + 1)] === 0x5d
  );
}

/**
 * An event as the client should see it when the gateway added `stream_options.include_usage`
 * that the client did not ask for: null for the usage-only chunk; the `"usage":null` member
 * cut out of other chunks (a byte edit, the rest of the event is untouched); anything else
 * (comments, `data: [DONE]`, chunks without usage) is returned as the same Buffer.
 */
export function stripUsageForClient(event: Buffer): Buffer | null {
  const usage = valueIndex(event, USAGE_KEY);
  if (!usage) return event;
  if (event[usage.value] === 0x7b) return isUsageOnlyEvent(event) ? null : event;
  if (!startsAt(event, usage.value, NULL)) return event;
  const valueEnd = usage.value + NULL.length;
  // Cut the member with one adjacent comma: `,"usage":null` or `"usage":null,`.
  let before = usage.key - 1;
  while (before >= 0 && (event[before] === 0x20 || event[before] === 0x09)) before--;
  if (event[before] === 0x2c /* , */)
    return Buffer.concat([event.subarray(0, before), event.subarray(valueEnd)]);
  const after = skipSpace(event, valueEnd);
  if (event[after] === 0x2c) {
    return Buffer.concat([event.subarray(0, usage.key), event.subarray(skipSpace(event, after + 1))]);
  }
  return Buffer.concat([event.subarray(0, usage.key), event.subarray(valueEnd)]);
}

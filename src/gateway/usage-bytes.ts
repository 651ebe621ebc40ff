/**
 * Finds the usage object in raw response bytes without parsing the whole body: the last
 * `"usage"` member whose value is an object is cut out by brace matching and parsed alone.
 * Usage objects hold only numbers and nested objects of numbers, so no string can hide a brace.
 */
const KEY = Buffer.from('"usage"');

function skipSpace(buf: Buffer, from: number): number {
  let i = from;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x0a || buf[i] === 0x0d)) i++;
  return i;
}

/** End (exclusive) of the object starting at `start`, or -1 when it is not closed in `buf`. */
function objectEnd(buf: Buffer, start: number): number {
  let depth = 0;
  for (let i = start; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x7b) depth++;
    else if (c === 0x7d) {
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === 0x22 /* " */) {
      // A string inside usage (a key): skip it whole, escapes included.
      for (i++; i < buf.length && buf[i] !== 0x22; i++) if (buf[i] === 0x5c) i++;
    }
  }
  return -1;
}

/**
 * The parsed value of the last `"usage": {…}` member in `buf`; undefined when there is none
 * that parses (a `"usage": null` member is passed over).
 */
export function lastUsageObject(buf: Buffer): object | undefined {
  for (let k = buf.lastIndexOf(KEY); k >= 0; k = k > 0 ? buf.lastIndexOf(KEY, k - 1) : -1) {
    // A key, not text inside a string: the quote is not escaped.
    if (k > 0 && buf[k - 1] === 0x5c) continue;
    let v = skipSpace(buf, k + KEY.length);
    if (buf[v] !== 0x3a /* : */) continue;
    v = skipSpace(buf, v + 1);
    if (buf[v] !== 0x7b) continue;
    const end = objectEnd(buf, v);
    if (end < 0) continue;
    try {
      const parsed: unknown = JSON.parse(buf.toString('utf8', v, end));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
    } catch {
      // not a usage object after all: look further back
    }
  }
  return undefined;
}

/**
 * Byte-level edits of a JSON request body passed through to an OpenAI-format upstream, so the
 * body the client sent is not parsed-and-re-serialized on the way out when nothing in it changes.
 */
const USAGE_MEMBER = Buffer.from(',"stream_options":{"include_usage":true}');

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * The body with `"stream_options":{"include_usage":true}` added as its last member, or null when
 * the bytes do not end in a non-empty object's closing brace (the caller re-serializes then).
 * Only for a body that has no `stream_options` member of its own.
 */
export function withIncludeUsage(bytes: Buffer): Buffer | null {
  let end = bytes.length - 1;
  while (end >= 0 && isSpace(bytes[end])) end--;
  if (end < 1 || bytes[end] !== 0x7d /* } */) return null;
  let before = end - 1;
  while (before >= 0 && isSpace(bytes[before])) before--;
  // `{}` has no member to follow; a trailing comma is not JSON.
  if (before < 0 || bytes[before] === 0x7b || bytes[before] === 0x2c) return null;
  return Buffer.concat([bytes.subarray(0, end), USAGE_MEMBER, bytes.subarray(end)]);
}

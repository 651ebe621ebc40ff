/**
 * SSE decoding as a pipe: bytes → text (streaming UTF-8 decode) → events (eventsource-parser).
 * Handles CRLF, comments, multi-line `data:` and chunks split anywhere, including inside a
 * multi-byte character.
 */
import { createParser } from 'eventsource-parser';

export interface SseEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
}

export async function* parseSSE(
  body: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder('utf-8');
  const queue: SseEvent[] = [];
  const parser = createParser({
    onEvent: (e) => queue.push({ event: e.event, data: e.data, id: e.id }),
  });
  for await (const chunk of body) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    while (queue.length > 0) yield queue.shift() as SseEvent;
  }
  const rest = decoder.decode();
  if (rest) parser.feed(rest);
  // A last event without its blank line is still delivered.
  parser.feed('\n\n');
  while (queue.length > 0) yield queue.shift() as SseEvent;
}

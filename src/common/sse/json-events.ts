/** SSE events with JSON data, until `data: [DONE]`. */
import { UpstreamError } from '../errors';
import { parseSSE } from './parse';

const EXCERPT_CHARS = 80;

/**
 * Yields each event's parsed JSON data and stops at `data: [DONE]` (events after it are not
 * read). Events without data (comments, keep-alives) are skipped. Data that is not JSON is a
 * protocol fault of the upstream: an `UpstreamError` of kind `protocol` carrying `status`
 * (the upstream's HTTP status, when the caller knows it).
 */
export async function* parseJsonEvents<T>(
  body: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  status: number | null = null,
): AsyncGenerator<{ event: string | undefined; data: T }> {
  for await (const e of parseSSE(body)) {
    const data = e.data.trim();
    if (data === '[DONE]') return;
    if (data === '') continue;
    let parsed: T;
    try {
      parsed = JSON.parse(data) as T;
    } catch {
      const excerpt = data.length > EXCERPT_CHARS ? `${data.slice(0, EXCERPT_CHARS)}…` : data;
      throw new UpstreamError(
        status,
        `upstream sent a stream event that is not JSON: ${JSON.stringify(excerpt)}`,
        null,
        'protocol',
      );
    }
    yield { event: e.event, data: parsed };
  }
}

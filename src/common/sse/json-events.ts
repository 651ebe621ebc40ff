/** SSE events with JSON data, until `data: [DONE]`. */
import { UpstreamError } from '../errors';
import { parseSSE } from './parse';

export async function* parseJsonEvents<T>(
  body: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
): AsyncGenerator<{ event: string | undefined; data: T }> {
  for await (const e of parseSSE(body)) {
    const data = e.data.trim();
    if (data === '[DONE]') return;
    if (data === '') continue;
    let parsed: T;
    try {
      parsed = JSON.parse(data) as T;
    } catch {
      throw new UpstreamError(null, 'upstream sent a stream event that is not JSON', null, 'protocol');
    }
    yield { event: e.event, data: parsed };
  }
}

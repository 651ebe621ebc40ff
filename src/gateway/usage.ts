/** Token usage of a finished call, from whatever form its response was kept in. */
import type { ChatCompletionChunk, TraceUsage, UsageDetails } from '../common/openai.types';
import { chatChunksFromSse, traceUsageFrom } from '../common/reassemble';
import type { RecordedResponse } from './call-record';

function usageField(body: unknown): UsageDetails | null {
  if (body && typeof body === 'object' && 'usage' in body) {
    const u = body.usage;
    if (u && typeof u === 'object') return u as UsageDetails;
  }
  return null;
}

function lastChunkUsage(chunks: readonly ChatCompletionChunk[]): UsageDetails | null {
  for (let i = chunks.length - 1; i >= 0; i--) {
    const u = chunks[i]?.usage;
    if (u) return u;
  }
  return null;
}

export function usageOfResponse(response: RecordedResponse): TraceUsage | null {
  switch (response.kind) {
    case 'none':
      return null;
    case 'json':
      return traceUsageFrom(usageField(response.body));
    case 'raw-json':
      try {
        return traceUsageFrom(usageField(JSON.parse(response.bytes.toString('utf8'))));
      } catch {
        return null;
      }
    case 'sse':
      return usageOfSse(response.chunks);
    case 'chunks':
      return traceUsageFrom(lastChunkUsage(response.chunks));
  }
}

/**
 * Usage of an SSE stream without parsing every event: only the last event that carries a usage
 * object is parsed (the usage chunk comes last).
 */
export function usageOfSse(chunks: readonly Buffer[]): TraceUsage | null {
  let tail = Buffer.alloc(0);
  for (let i = chunks.length - 1; i >= 0; i--) {
    tail = Buffer.concat([chunks[i] as Buffer, tail]);
    const at = tail.lastIndexOf('"usage":{');
    if (at < 0) {
      if (tail.length > 65_536) break;
      continue;
    }
    const start = tail.lastIndexOf('data:', at);
    if (start < 0) continue;
    const end = tail.indexOf('\n', at);
    const line = tail.subarray(start + 5, end < 0 ? tail.length : end).toString('utf8');
    try {
      return traceUsageFrom(usageField(JSON.parse(line)));
    } catch {
      return traceUsageFrom(lastChunkUsage(chatChunksFromSse(chunks)));
    }
  }
  return null;
}

export function usageOfCall(state: { response: RecordedResponse }): TraceUsage | null {
  return usageOfResponse(state.response);
}

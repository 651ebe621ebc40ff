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
      return traceUsageFrom(lastChunkUsage(chatChunksFromSse(response.chunks)));
    case 'chunks':
      return traceUsageFrom(lastChunkUsage(response.chunks));
  }
}

export function usageOfCall(state: { response: RecordedResponse }): TraceUsage | null {
  return usageOfResponse(state.response);
}

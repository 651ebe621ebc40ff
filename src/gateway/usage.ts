/** Token usage of a finished call, from whatever form its response was kept in. */
import type { ChatCompletionChunk, TraceUsage, UsageDetails } from '../common/openai.types';
import { traceUsageFrom } from '../common/reassemble';
import type { RecordedResponse } from './call-record';
import { lastUsageObject } from './usage-bytes';

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
      return traceUsageFrom(lastUsageObject(response.bytes) as UsageDetails | undefined);
    case 'sse':
      return usageOfSse(response.chunks);
    case 'chunks':
      return traceUsageFrom(lastChunkUsage(response.chunks));
  }
}

/**
 * Usage of an SSE stream without parsing every event: only the last usage object is parsed (the
 * usage chunk comes last); the reads are joined from the end only as far as needed.
 */
export function usageOfSse(chunks: readonly Buffer[]): TraceUsage | null {
  let tail: Buffer | null = null;
  for (let i = chunks.length - 1; i >= 0; i--) {
    const chunk = chunks[i] as Buffer;
    tail = tail ? Buffer.concat([chunk, tail]) : chunk;
    const found = lastUsageObject(tail);
    if (found) return traceUsageFrom(found as UsageDetails);
    if (tail.length > 65_536) break;
  }
  return null;
}

export function usageOfCall(state: {
  response: RecordedResponse;
  usageEvent: Buffer | null;
}): TraceUsage | null {
  if (state.usageEvent) {
    const found = lastUsageObject(state.usageEvent);
    if (found) return traceUsageFrom(found as UsageDetails);
  }
  return usageOfResponse(state.response);
}

/**
 * What a span needs from a finished call, in a form that crosses to the span worker thread: plain
 * values, error texts already scrubbed of credentials, provider types and URLs resolved from the
 * config, and the response either reduced to its facts (when the gateway already holds it parsed)
 * or as bytes to be scanned by the worker (raw JSON or an SSE stream).
 */
import type { AttemptRecord, CallRecord } from '../../gateway/call-record';
import type { SecretScrubber } from '../secrets';
import { responseFacts, type ResponseFacts } from './response-facts';

export interface ProviderInfo {
  type: string;
  baseUrl?: string | undefined;
}

export interface RequestParams {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
}

export type CallSummary = Pick<
  CallRecord,
  | 'id'
  | 'startedAt'
  | 'endpoint'
  | 'model'
  | 'provider'
  | 'upstreamModel'
  | 'stream'
  | 'keyId'
  | 'sessionId'
  | 'replayOf'
  | 'status'
  | 'httpStatus'
  | 'error'
  | 'latencyMs'
  | 'ttftMs'
  | 'overheadMs'
  | 'usage'
> & { attempts: AttemptRecord[]; params: RequestParams };

export interface SpanInput {
  call: CallSummary;
  /** The providers the call and its attempts name. */
  providers: Record<string, ProviderInfo>;
  /** Known without parsing; null: read them from `body`. */
  facts: ResponseFacts | null;
  /** Where the response bytes sit in the batch's byte arena. */
  body: { kind: 'raw-json' | 'sse'; offset: number; length: number } | null;
}

const MAX_MESSAGE = 500;

function scrubbed(scrubber: SecretScrubber, text: string | null): string | null {
  return text === null ? null : scrubber.scrub(text).slice(0, MAX_MESSAGE);
}

function params(request: unknown): RequestParams {
  const out: RequestParams = {};
  if (request === null || typeof request !== 'object') return out;
  const r = request as Record<string, unknown>;
  const maxTokens = r.max_completion_tokens ?? r.max_tokens;
  if (typeof maxTokens === 'number') out.maxTokens = maxTokens;
  if (typeof r.temperature === 'number') out.temperature = r.temperature;
  if (typeof r.top_p === 'number') out.topP = r.top_p;
  return out;
}

/** The input of one call and the response bytes the worker must scan (null when none). */
export function toSpanInput(
  rec: CallRecord,
  provider: (id: string) => ProviderInfo | undefined,
  scrubber: SecretScrubber,
): { input: SpanInput; bytes: Buffer[] | null } {
  const providers: Record<string, ProviderInfo> = {};
  const note = (id: string | null): void => {
    if (id === null || id in providers) return;
    const info = provider(id);
    if (info) providers[id] = { type: info.type, baseUrl: info.baseUrl };
  };
  note(rec.provider);
  for (const a of rec.attempts) note(a.provider);
  const r = rec.response;
  const bytes = r.kind === 'raw-json' ? [r.bytes] : r.kind === 'sse' ? r.chunks : null;
  let length = 0;
  if (bytes) for (const b of bytes) length += b.length;
  const call: CallSummary = {
    id: rec.id,
    startedAt: rec.startedAt,
    endpoint: rec.endpoint,
    model: rec.model,
    provider: rec.provider,
    upstreamModel: rec.upstreamModel,
    stream: rec.stream,
    keyId: rec.keyId,
    sessionId: rec.sessionId,
    replayOf: rec.replayOf,
    status: rec.status,
    httpStatus: rec.httpStatus,
    error: scrubbed(scrubber, rec.error),
    latencyMs: rec.latencyMs,
    ttftMs: rec.ttftMs,
    overheadMs: rec.overheadMs,
    usage: rec.usage,
    attempts: rec.attempts.map((a) => ({ ...a, error: scrubbed(scrubber, a.error) })),
    params: params(rec.request),
  };
  return {
    input: {
      call,
      providers,
      facts: bytes === null ? responseFacts(r) : null,
      body: bytes === null ? null : { kind: r.kind === 'sse' ? 'sse' : 'raw-json', offset: 0, length },
    },
    bytes,
  };
}

/** Inputs of a batch with their bytes packed into one arena (transferred, not copied, to the worker). */
export function packBatch(items: Array<{ input: SpanInput; bytes: Buffer[] | null }>): {
  inputs: SpanInput[];
  arena: ArrayBuffer;
} {
  let total = 0;
  for (const it of items) total += it.input.body?.length ?? 0;
  const arena = new ArrayBuffer(total);
  const view = new Uint8Array(arena);
  let at = 0;
  const inputs = items.map((it) => {
    if (it.bytes && it.input.body) {
      it.input.body.offset = at;
      for (const b of it.bytes) {
        view.set(b, at);
        at += b.length;
      }
    }
    return it.input;
  });
  return { inputs, arena };
}

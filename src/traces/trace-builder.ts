/** CallRecord → the stored trace (SPEC §5). Runs in the writer, off the request path. */
import type { ChatCompletion, TraceUsage } from '../common/openai.types';
import {
  chatChunksFromSse,
  estimateUsage,
  reassembleChatStream,
  reassembleCompletionStream,
  traceUsageFrom,
} from '../common/reassemble';
import type { CallRecord, RecordedResponse } from '../gateway/call-record';
import { parentHash, replyHash } from './threading';

export interface TraceDraft {
  id: string;
  createdAt: number;
  endpoint: string;
  keyId: string | null;
  model: string | null;
  provider: string | null;
  upstreamModel: string | null;
  stream: boolean;
  status: CallRecord['status'];
  httpStatus: number;
  error: string | null;
  latencyMs: number;
  ttftMs: number | null;
  overheadMs: number;
  usage: TraceUsage | null;
  multimodal: boolean;
  tools: boolean;
  attempts: CallRecord['attempts'];
  metadata: Record<string, unknown> | null;
  replayOf: string | null;
  sessionHeader: string | null;
  /** Hash a follow-up request of this conversation will present. */
  replyHash: string | null;
  /** Hash of this request's history, to find the turn it continues. */
  parentHash: string | null;
  messages: unknown[];
  request: unknown;
  upstreamRequest: unknown;
  response: unknown;
}

const SECRET_KEYS = new Set(['api_key', 'apikey', 'authorization', 'x-api-key', 'api-key', 'password', 'secret']);

/** A copy with credential-like fields replaced; bodies never carry headers, but a client may send such fields. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 64 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.has(k.toLowerCase()) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

function responseValue(endpoint: string, r: RecordedResponse): unknown {
  switch (r.kind) {
    case 'none':
      return null;
    case 'json':
      return r.body;
    case 'raw-json': {
      const text = r.bytes.toString('utf8');
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    }
    case 'sse': {
      const chunks = chatChunksFromSse(r.chunks);
      if (endpoint === '/v1/completions') return reassembleCompletionStream(chunks);
      return reassembleChatStream(chunks);
    }
    case 'chunks':
      return reassembleChatStream(r.chunks);
  }
}

function replyMessage(response: unknown): { role: string; content: unknown; tool_calls?: unknown } | null {
  const choice = (response as ChatCompletion | null)?.choices?.[0];
  if (!choice || !('message' in choice) || !choice.message) return null;
  return choice.message;
}

function outputText(response: unknown): string {
  const choices = (response as { choices?: Array<{ message?: { content?: unknown; tool_calls?: unknown }; text?: unknown }> } | null)?.choices;
  if (!Array.isArray(choices)) return '';
  return choices
    .map((c) => (typeof c.text === 'string' ? c.text : typeof c.message?.content === 'string' ? c.message.content : JSON.stringify(c.message?.tool_calls ?? '')))
    .join('\n');
}

function isMultimodal(messages: unknown[]): boolean {
  return messages.some(
    (m) => Array.isArray((m as { content?: unknown })?.content) && ((m as { content: unknown[] }).content).some((p) => (p as { type?: unknown })?.type === 'image_url'),
  );
}

export function buildTrace(rec: CallRecord): TraceDraft {
  const request = rec.request as { messages?: unknown; tools?: unknown } | null;
  const messages = Array.isArray(request?.messages) ? (request.messages as unknown[]) : [];
  const response = responseValue(rec.endpoint, rec.response);
  const reply = rec.status === 'error' ? null : replyMessage(response);
  let usage = rec.usage ?? traceUsageFrom((response as { usage?: never } | null)?.usage);
  if (!usage && rec.status !== 'error' && response !== null) usage = estimateUsage(request, outputText(response));
  const toolCalls = reply && Array.isArray((reply as { tool_calls?: unknown }).tool_calls) && ((reply as { tool_calls: unknown[] }).tool_calls).length > 0;
  return {
    id: rec.id,
    createdAt: Math.round(rec.startedAt),
    endpoint: rec.endpoint,
    keyId: rec.keyId,
    model: rec.model,
    provider: rec.provider,
    upstreamModel: rec.upstreamModel,
    stream: rec.stream,
    status: rec.status,
    httpStatus: rec.httpStatus,
    error: rec.error,
    latencyMs: round(rec.latencyMs),
    ttftMs: rec.ttftMs === null ? null : round(rec.ttftMs),
    overheadMs: round(rec.overheadMs),
    usage,
    multimodal: isMultimodal(messages),
    tools: (Array.isArray(request?.tools) && (request.tools as unknown[]).length > 0) || !!toolCalls,
    attempts: rec.attempts,
    metadata: rec.metadata,
    replayOf: rec.replayOf,
    sessionHeader: rec.sessionId,
    replyHash: rec.endpoint === '/v1/chat/completions' ? replyHash(messages as never[], reply) : null,
    parentHash: rec.endpoint === '/v1/chat/completions' ? parentHash(messages as never[]) : null,
    messages,
    request: redact(rec.request),
    upstreamRequest: redact(rec.upstreamRequest),
    response,
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

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
import { jsonOrText } from '../common/json-text';
import { redact } from './redact';
import type { SourceTexts } from './trace-wire';
import { parentHash, replyHash } from './threading';

export { redact } from './redact';

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
  /** Id of a trace whose session this one joins (an image description of a call). */
  sessionOf: string | null;
  /** A turn number given by the caller (ingest); otherwise computed. */
  turnOverride: number | null;
  /** Hash a follow-up request of this conversation will present. */
  replyHash: string | null;
  /** Hash of this request's history, to find the turn it continues. */
  parentHash: string | null;
  messages: unknown[];
  request: unknown;
  upstreamRequest: unknown;
  response: unknown;
  /**
   * The stored body texts, when they are the texts the bodies arrived as (valid JSON that
   * redaction left as it was); otherwise undefined, and the store serializes the values.
   */
  requestJson?: string;
  upstreamJson?: string;
  responseJson?: string;
  /** Request and response text for full-text search. */
  searchText: string;
}

/** Longest text indexed for search per trace. */
const SEARCH_TEXT_MAX = 32_768;

/** The response as one value; `text` is the raw JSON reply it was parsed from, when it parsed. */
function responseValue(endpoint: string, r: RecordedResponse): { value: unknown; text: string | null } {
  switch (r.kind) {
    case 'none':
      return { value: null, text: null };
    case 'json':
      return { value: r.body, text: null };
    case 'raw-json': {
      const text = r.bytes.toString('utf8');
      const p = jsonOrText(text);
      return { value: p.value, text: p.json ? text : null };
    }
    case 'sse': {
      const chunks = chatChunksFromSse(r.chunks);
      if (endpoint === '/v1/completions') return { value: reassembleCompletionStream(chunks), text: null };
      return { value: reassembleChatStream(chunks), text: null };
    }
    case 'chunks':
      return { value: reassembleChatStream(r.chunks), text: null };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function replyMessage(response: unknown): { role: string; content: unknown; tool_calls?: unknown } | null {
  const choice = (response as ChatCompletion | null)?.choices?.[0];
  if (!isObject(choice) || !isObject(choice.message)) return null;
  return choice.message;
}

/** The text of a message content, a prompt or an input: strings and text parts. */
function textOf(value: unknown, depth = 0): string {
  if (typeof value === 'string') return value;
  if (depth > 8) return '';
  if (Array.isArray(value)) return value.map((v) => textOf(v, depth + 1)).join('\n');
  if (!isObject(value)) return '';
  const parts: string[] = [];
  if (typeof value.text === 'string') parts.push(value.text);
  if ('content' in value) parts.push(textOf(value.content, depth + 1));
  if (typeof value.reasoning_content === 'string') parts.push(value.reasoning_content);
  if (Array.isArray(value.tool_calls)) {
    for (const c of value.tool_calls) {
      const f = isObject(c) && isObject(c.function) ? c.function : null;
      if (f) parts.push(`${typeof f.name === 'string' ? f.name : ''} ${typeof f.arguments === 'string' ? f.arguments : ''}`);
    }
  }
  return parts.filter((p) => p !== '').join('\n');
}

function requestText(request: unknown): string {
  if (!isObject(request)) return typeof request === 'string' ? request : '';
  return [textOf(request.messages), textOf(request.prompt), textOf(request.input)].filter((s) => s !== '').join('\n');
}

function outputText(response: unknown): string {
  if (typeof response === 'string') return response;
  if (!isObject(response) || !Array.isArray(response.choices)) return '';
  return response.choices
    .map((c: unknown) => (isObject(c) ? (typeof c.text === 'string' ? c.text : textOf(c.message)) : ''))
    .join('\n');
}

function isImagePart(p: unknown): boolean {
  return isObject(p) && (p.type === 'image_url' || p.type === 'input_image' || p.type === 'image');
}

function isMultimodal(messages: unknown[]): boolean {
  return messages.some((m) => isObject(m) && Array.isArray(m.content) && m.content.some(isImagePart));
}

function nonEmptyArray(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0;
}

function hasToolCalls(response: unknown): boolean {
  if (!isObject(response) || !Array.isArray(response.choices)) return false;
  return response.choices.some((c: unknown) => isObject(c) && isObject(c.message) && nonEmptyArray(c.message.tool_calls));
}

function usageOf(rec: CallRecord, request: unknown, response: unknown): TraceUsage | null {
  if (rec.usage) return rec.usage;
  const reported = isObject(response) ? traceUsageFrom(response.usage as never) : null;
  if (reported) return reported;
  if (rec.status === 'error' || response === null) return null;
  return estimateUsage(request, outputText(response));
}

/**
 * The trace of a call. `texts`: the body texts the record was decoded from (src/traces/trace-wire.ts),
 * stored as they are when redaction changes nothing in them.
 */
export function buildTrace(
  rec: CallRecord,
  turnOverride: number | null = null,
  texts: SourceTexts | null = null,
): TraceDraft {
  const request = isObject(rec.request) ? rec.request : null;
  const messages = Array.isArray(request?.messages) ? request.messages : [];
  const { value: response, text: responseText } = responseValue(rec.endpoint, rec.response);
  const reply = rec.status === 'error' ? null : replyMessage(response);
  const chat = rec.endpoint === '/v1/chat/completions' || (rec.endpoint === '/api/traces' && messages.length > 0);
  const redactedRequest = redact(rec.request);
  const redactedResponse = redact(response);
  const upstream = Buffer.isBuffer(rec.upstreamRequest)
    ? jsonOrText(rec.upstreamRequest.toString('utf8')).value
    : rec.upstreamRequest;
  const redactedUpstream = redact(upstream);
  const draft: TraceDraft = {
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
    usage: usageOf(rec, rec.request, response),
    multimodal: isMultimodal(messages),
    tools: nonEmptyArray(request?.tools) || nonEmptyArray(request?.functions) || hasToolCalls(response),
    attempts: rec.attempts,
    metadata: rec.metadata === null ? null : (redact(rec.metadata) as Record<string, unknown>),
    replayOf: rec.replayOf,
    sessionHeader: rec.sessionId,
    sessionOf: rec.sessionOf ?? null,
    turnOverride,
    replyHash: chat ? replyHash(messages as never[], reply) : null,
    parentHash: chat ? parentHash(messages as never[]) : null,
    messages,
    request: redactedRequest,
    upstreamRequest: redactedUpstream,
    response: redactedResponse,
    searchText: `${requestText(redactedRequest)}\n${outputText(redactedResponse)}`.slice(0, SEARCH_TEXT_MAX),
  };
  if (texts?.request != null && redactedRequest === rec.request) draft.requestJson = texts.request;
  if (texts?.upstream != null && redactedUpstream === rec.upstreamRequest) draft.upstreamJson = texts.upstream;
  if (responseText !== null && redactedResponse === response) draft.responseJson = responseText;
  return draft;
}

/** The three body texts a trace stores: request, upstream request, response. */
export function bodyTexts(d: TraceDraft): [string, string, string] {
  return [
    d.requestJson ?? JSON.stringify(d.request ?? null),
    d.upstreamJson ?? JSON.stringify(d.upstreamRequest ?? null),
    d.responseJson ?? JSON.stringify(d.response ?? null),
  ];
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

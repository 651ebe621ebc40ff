/**
 * One finished call (its SpanInput) → one SERVER span for the /v1 call and one CLIENT child span per
 * upstream attempt, with explicit start and end times (the call already happened). The span's
 * trace id is the gateway trace id (a UUID is 32 hex digits), so a trace found in the UI is found
 * in the tracing back end under the same id.
 *
 * Attempt start times are not recorded by the attempt loop, only their durations: attempts ran
 * one after the other from the call's start, so they are laid end to end from there.
 */
import {
  SpanKind,
  SpanStatusCode,
  trace,
  ROOT_CONTEXT,
  type Attributes,
  type Tracer,
} from '@opentelemetry/api';
import { RandomIdGenerator, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import type { AttemptRecord } from '../../gateway/call-record';
import { DEFAULT_HOSTS, GATEWAY, GEN_AI, operationOf, providerNames } from './gen-ai';
import type { ResponseFacts } from './response-facts';
import type { ProviderInfo, SpanInput } from './span-input';

/**
 * The SDK's random ids (not cryptographic: ids, not secrets), except that the next trace id can be
 * chosen (set just before a root span starts).
 */
export class ChosenTraceIds implements IdGenerator {
  next: string | null = null;
  private readonly random = new RandomIdGenerator();

  generateTraceId(): string {
    const chosen = this.next;
    this.next = null;
    return chosen ?? this.random.generateTraceId();
  }

  generateSpanId(): string {
    return this.random.generateSpanId();
  }
}

const servers = new Map<string, Attributes>();

/** server.address / server.port of a provider (parsed once per base URL). */
function server(info: ProviderInfo | undefined): Attributes {
  const base = info?.baseUrl ?? (info ? DEFAULT_HOSTS[info.type] : undefined);
  if (!base) return {};
  let attrs = servers.get(base);
  if (!attrs) {
    try {
      const u = new URL(base);
      const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
      attrs = { [ATTR_SERVER_ADDRESS]: u.hostname, [ATTR_SERVER_PORT]: port };
    } catch {
      attrs = {};
    }
    if (servers.size > 1000) servers.clear();
    servers.set(base, attrs);
  }
  return attrs;
}

function set(
  attrs: Attributes,
  key: string,
  value: string | number | boolean | string[] | null | undefined,
): void {
  if (value !== null && value !== undefined) attrs[key] = value;
}

function attemptErrorType(a: AttemptRecord): string {
  if (a.status !== null) return String(a.status);
  return a.error !== null && /timed out|timeout/i.test(a.error) ? 'timeout' : 'connection_error';
}

export interface SpanBuildDeps {
  tracer: Tracer;
  ids: ChosenTraceIds;
}

/** Builds and ends the spans of one call. */
export function emitCallSpans(input: SpanInput, facts: ResponseFacts, deps: SpanBuildDeps): void {
  const rec = input.call;
  const operation = operationOf(rec.endpoint);
  const info = rec.provider !== null ? input.providers[rec.provider] : undefined;
  const names = providerNames(info?.type);
  const start = rec.startedAt;
  const end = rec.startedAt + rec.latencyMs;

  const attrs: Attributes = {
    [GEN_AI.OPERATION_NAME]: operation,
    [GEN_AI.PROVIDER_NAME]: names.name,
    [GEN_AI.SYSTEM]: names.system,
    [GEN_AI.REQUEST_STREAM]: rec.stream,
    [GATEWAY.TRACE_ID]: rec.id,
    [GATEWAY.ENDPOINT]: rec.endpoint,
    [GATEWAY.STATUS]: rec.status,
    [GATEWAY.OVERHEAD_MS]: rec.overheadMs,
    [GATEWAY.LATENCY_MS]: Math.round(rec.latencyMs * 1000) / 1000,
    [GATEWAY.ATTEMPTS]: rec.attempts.length,
    [ATTR_HTTP_RESPONSE_STATUS_CODE]: rec.httpStatus,
    ...server(info),
  };
  set(attrs, GEN_AI.REQUEST_MODEL, rec.model);
  set(attrs, GEN_AI.RESPONSE_MODEL, facts.model ?? rec.upstreamModel);
  set(attrs, GEN_AI.RESPONSE_ID, facts.id);
  if (facts.finishReasons.length > 0) attrs[GEN_AI.RESPONSE_FINISH_REASONS] = facts.finishReasons;
  if (rec.usage) {
    attrs[GEN_AI.USAGE_INPUT_TOKENS] = rec.usage.prompt_tokens;
    attrs[GEN_AI.USAGE_OUTPUT_TOKENS] = rec.usage.completion_tokens;
    set(attrs, GEN_AI.USAGE_CACHE_READ_INPUT_TOKENS, rec.usage.cached_tokens);
    set(attrs, GEN_AI.USAGE_REASONING_OUTPUT_TOKENS, rec.usage.reasoning_tokens);
  }
  if (rec.ttftMs !== null) {
    attrs[GEN_AI.RESPONSE_TIME_TO_FIRST_CHUNK] = rec.ttftMs / 1000;
    attrs[GATEWAY.TTFT_MS] = rec.ttftMs;
  }
  set(attrs, GATEWAY.PROVIDER_ID, rec.provider);
  set(attrs, GATEWAY.KEY_ID, rec.keyId);
  set(attrs, GATEWAY.SESSION_ID, rec.sessionId);
  set(attrs, GEN_AI.CONVERSATION_ID, rec.sessionId);
  set(attrs, GATEWAY.REPLAY_OF, rec.replayOf);
  set(attrs, GEN_AI.REQUEST_MAX_TOKENS, rec.params.maxTokens);
  set(attrs, GEN_AI.REQUEST_TEMPERATURE, rec.params.temperature);
  set(attrs, GEN_AI.REQUEST_TOP_P, rec.params.topP);
  if (rec.status === 'error') attrs[ATTR_ERROR_TYPE] = facts.errorCode ?? String(rec.httpStatus);

  deps.ids.next = /^[0-9a-f]{32}$/.test(rec.id.replace(/-/g, '')) ? rec.id.replace(/-/g, '') : null;
  const span = deps.tracer.startSpan(
    `${operation} ${rec.model ?? ''}`.trim(),
    { kind: SpanKind.SERVER, startTime: start, attributes: attrs, root: true },
    ROOT_CONTEXT,
  );
  deps.ids.next = null;
  if (rec.status === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: rec.error ?? '' });
  const parent = trace.setSpan(ROOT_CONTEXT, span);

  let at = start;
  rec.attempts.forEach((a, index) => {
    const aInfo = input.providers[a.provider];
    const aNames = providerNames(aInfo?.type);
    const aStart = Math.min(at, end);
    const aEnd = Math.min(aStart + a.latency_ms, end);
    at = aEnd;
    const aAttrs: Attributes = {
      [GEN_AI.OPERATION_NAME]: operation,
      [GEN_AI.PROVIDER_NAME]: aNames.name,
      [GEN_AI.SYSTEM]: aNames.system,
      [GEN_AI.REQUEST_MODEL]: a.model,
      [GATEWAY.PROVIDER_ID]: a.provider,
      [GATEWAY.ATTEMPT_INDEX]: index,
      [GATEWAY.LATENCY_MS]: a.latency_ms,
      ...server(aInfo),
    };
    if (a.status !== null) aAttrs[ATTR_HTTP_RESPONSE_STATUS_CODE] = a.status;
    const failed = a.error !== null || (a.status !== null && a.status >= 400);
    if (failed) aAttrs[ATTR_ERROR_TYPE] = attemptErrorType(a);
    const child = deps.tracer.startSpan(
      `${operation} ${a.model}`,
      { kind: SpanKind.CLIENT, startTime: aStart, attributes: aAttrs },
      parent,
    );
    if (failed) child.setStatus({ code: SpanStatusCode.ERROR, message: a.error ?? '' });
    child.end(aEnd);
  });
  span.end(end);
}

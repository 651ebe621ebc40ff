/** `POST /api/traces`: a trace sent by application code, validated into a CallRecord. */
import { newTraceId } from '../common/trace-id';
import { GatewayError } from '../common/errors';
import type { CallRecord, CallStatus } from '../gateway/call-record';

export interface IngestedTrace {
  rec: CallRecord;
  turn: number | null;
}

const STATUSES: readonly CallStatus[] = ['success', 'error', 'cancelled'];
const FIELDS = new Set([
  'session_id',
  'turn_number',
  'request',
  'response',
  'status',
  'error_message',
  'metadata',
  'latency_ms',
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(message: string, param: string): GatewayError {
  return GatewayError.badRequest(message, param, 'invalid_trace');
}

/** Validates an ingest body; throws a 400 GatewayError naming the field at fault. */
export function parseIngest(body: unknown, keyId: string | null, now = Date.now()): IngestedTrace {
  if (!isObject(body)) throw bad('The body must be a JSON object.', 'body');
  for (const k of Object.keys(body)) if (!FIELDS.has(k)) throw bad(`Unknown field \`${k}\`.`, k);
  const { session_id, turn_number, request, response, status, error_message, metadata, latency_ms } = body;
  if (!isObject(request)) throw bad('`request` is required and must be a JSON object.', 'request');
  if (typeof status !== 'string' || !STATUSES.includes(status as CallStatus)) {
    throw bad('`status` must be one of success, error, cancelled.', 'status');
  }
  if (session_id !== undefined && (typeof session_id !== 'string' || session_id === '' || session_id.length > 200)) {
    throw bad('`session_id` must be a non-empty string of at most 200 characters.', 'session_id');
  }
  if (turn_number !== undefined && (!Number.isInteger(turn_number) || (turn_number as number) < 1)) {
    throw bad('`turn_number` must be a positive integer.', 'turn_number');
  }
  if (error_message !== undefined && error_message !== null && typeof error_message !== 'string') {
    throw bad('`error_message` must be a string.', 'error_message');
  }
  if (metadata !== undefined && metadata !== null && !isObject(metadata)) {
    throw bad('`metadata` must be a JSON object.', 'metadata');
  }
  if (latency_ms !== undefined && (typeof latency_ms !== 'number' || !Number.isFinite(latency_ms) || latency_ms < 0)) {
    throw bad('`latency_ms` must be a non-negative number.', 'latency_ms');
  }
  const callStatus = status as CallStatus;
  const latency = typeof latency_ms === 'number' ? latency_ms : 0;
  return {
    turn: typeof turn_number === 'number' ? turn_number : null,
    rec: {
      id: newTraceId(),
      startedAt: now - latency,
      endpoint: '/api/traces',
      model: typeof request.model === 'string' ? request.model : null,
      provider: null,
      upstreamModel: null,
      stream: request.stream === true,
      keyId,
      sessionId: typeof session_id === 'string' ? session_id : null,
      metadata: isObject(metadata) ? metadata : null,
      request,
      requestBytes: null,
      upstreamRequest: null,
      response: response === undefined || response === null ? { kind: 'none' } : { kind: 'json', body: response },
      status: callStatus,
      httpStatus: callStatus === 'success' ? 200 : callStatus === 'cancelled' ? 499 : 500,
      error: typeof error_message === 'string' ? error_message : null,
      latencyMs: latency,
      ttftMs: null,
      overheadMs: 0,
      attempts: [],
      usage: null,
      replayOf: null,
      sessionOf: null,
    },
  };
}

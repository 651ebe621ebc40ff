/**
 * What the gateway hands to the trace recorder when a /v1 call ends. Producing it costs the hot
 * path nothing beyond keeping references: raw upstream bytes are kept as they were received and
 * parsed later, off the request path, by the recorder.
 */
import type { ChatCompletionChunk, TraceUsage } from '../common/openai.types';

export interface AttemptRecord {
  provider: string;
  model: string;
  /** Upstream HTTP status, or null for a connection error or timeout. */
  status: number | null;
  error: string | null;
  latency_ms: number;
}

/** The response as the gateway saw it; the recorder turns it into one JSON value. */
export type RecordedResponse =
  | { kind: 'none' }
  /** A parsed JSON body (adapters, errors). */
  | { kind: 'json'; body: unknown }
  /** Raw bytes of a JSON body passed through untouched. */
  | { kind: 'raw-json'; bytes: Buffer }
  /** Raw bytes of an OpenAI SSE stream passed through (upstream view, usage chunk included). */
  | { kind: 'sse'; chunks: Buffer[] }
  /** Chunks produced by an adapter's stream conversion. */
  | { kind: 'chunks'; chunks: ChatCompletionChunk[] };

export type CallStatus = 'success' | 'error' | 'cancelled';

export interface CallRecord {
  id: string;
  /** Epoch ms when the request arrived. */
  startedAt: number;
  endpoint: string;
  /** The model the client asked for. */
  model: string | null;
  provider: string | null;
  upstreamModel: string | null;
  stream: boolean;
  keyId: string | null;
  /** `X-Session-Id` header, when given. */
  sessionId: string | null;
  metadata: Record<string, unknown> | null;
  /** The client's request body as received (parsed). */
  request: unknown;
  /** The same body's bytes as they arrived, when the call came from a socket (null otherwise). */
  requestBytes: Buffer | null;
  /**
   * The body sent upstream, in the provider's format, after transforms (last attempt): parsed, or
   * a Buffer of the exact bytes sent when the gateway edited the client's bytes (pass-through).
   */
  upstreamRequest: unknown;
  response: RecordedResponse;
  status: CallStatus;
  httpStatus: number;
  error: string | null;
  latencyMs: number;
  ttftMs: number | null;
  overheadMs: number;
  attempts: AttemptRecord[];
  /** Usage when the gateway already knows it (adapters); otherwise derived from the response. */
  usage: TraceUsage | null;
  replayOf: string | null;
  /**
   * Id of a trace whose session this trace joins (an image description joins the session of the
   * call it was made for). Such a record is handed to the recorder after the trace it names.
   */
  sessionOf: string | null;
}

/** Implemented by the traces module; the default drops records. Must never throw or block. */
export interface CallRecorder {
  record(rec: CallRecord): void;
}

export const CALL_RECORDER = Symbol('CALL_RECORDER');

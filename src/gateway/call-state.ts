/** Everything the gateway learns about one /v1 call while it runs; becomes the CallRecord. */
import { performance } from 'node:perf_hooks';
import type { UpstreamAbort } from '../common/abort';
import { newTraceId } from '../common/trace-id';
import type { TraceUsage } from '../common/openai.types';
import type { AttemptRecord, CallRecord, CallStatus, RecordedResponse } from './call-record';

/** `ms` with three decimals, as `toFixed(3)` writes it for the values a call takes (≥ 0, < 2^53 µs). */
export function millis3(ms: number): string {
  const us = Math.round(ms * 1000);
  const whole = Math.floor(us / 1000);
  const frac = us - whole * 1000;
  return `${whole}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
}

export class CallState {
  readonly id = newTraceId();
  readonly startedAt: number;
  model: string | null = null;
  request: unknown = null;
  requestBytes: Buffer | null = null;
  stream = false;
  /** The client asked for the usage chunk (`stream_options.include_usage`). */
  wantUsage = false;
  keyId: string | null = null;
  sessionId: string | null = null;
  metadata: Record<string, unknown> | null = null;
  replayOf: string | null = null;
  sessionOf: string | null = null;
  readonly attempts: AttemptRecord[] = [];
  /** Time spent waiting on upstreams (until the first byte for streams). */
  upstreamWaitMs = 0;
  upstreamRequest: unknown = null;
  provider: string | null = null;
  upstreamModel: string | null = null;
  response: RecordedResponse = { kind: 'none' };
  status: CallStatus = 'success';
  httpStatus = 200;
  error: string | null = null;
  ttftMs: number | null = null;
  overheadMs = 0;
  usage: TraceUsage | null = null;
  /** The usage-only SSE event held back from a client that did not ask for it (its usage is read from it). */
  usageEvent: Buffer | null = null;
  cancelled = false;
  /** The running attempt's controller: aborted on timeout or client disconnect. */
  controller: UpstreamAbort | null = null;

  constructor(
    readonly endpoint: string,
    readonly t0: number,
  ) {
    this.startedAt = Date.now() - (performance.now() - t0);
  }

  cancel(): void {
    this.cancelled = true;
    this.controller?.abort(new Error('client disconnected'));
  }

  /** Overhead so far: time since arrival not spent waiting on an upstream. */
  markOverhead(): string {
    this.overheadMs = Math.max(0, performance.now() - this.t0 - this.upstreamWaitMs);
    return millis3(this.overheadMs);
  }

  toRecord(): CallRecord {
    const latencyMs = performance.now() - this.t0;
    return {
      id: this.id,
      startedAt: this.startedAt,
      endpoint: this.endpoint,
      model: this.model,
      provider: this.provider,
      upstreamModel: this.upstreamModel,
      stream: this.stream,
      keyId: this.keyId,
      sessionId: this.sessionId,
      metadata: this.metadata,
      request: this.request,
      requestBytes: this.requestBytes,
      upstreamRequest: this.upstreamRequest,
      response: this.response,
      status: this.cancelled ? 'cancelled' : this.status,
      httpStatus: this.cancelled ? 499 : this.httpStatus,
      error: this.cancelled ? (this.error ?? 'client disconnected') : this.error,
      latencyMs,
      ttftMs: this.ttftMs,
      overheadMs: this.overheadMs,
      attempts: this.attempts,
      usage: this.usage,
      replayOf: this.replayOf,
      sessionOf: this.sessionOf,
    };
  }
}

/**
 * At LOG_LEVEL=debug (or trace), one structured line per finished /v1 call: ids, model, provider,
 * status, timing and the attempts. Bodies are never logged. Below debug it costs one level check.
 */
import type { CallRecord } from '../gateway/call-record';
import type { CallObserver } from './call-observers';
import type { Logger } from './logger';

export class CallLog implements CallObserver {
  constructor(private readonly logger: Logger) {}

  observe(rec: CallRecord): void {
    if (!this.logger.isLevelEnabled('debug')) return;
    this.logger.debug(
      {
        trace_id: rec.id,
        endpoint: rec.endpoint,
        model: rec.model,
        provider: rec.provider,
        upstream_model: rec.upstreamModel,
        stream: rec.stream,
        key_id: rec.keyId,
        session_id: rec.sessionId,
        status: rec.status,
        http_status: rec.httpStatus,
        error: rec.error,
        latency_ms: Math.round(rec.latencyMs * 1000) / 1000,
        ttft_ms: rec.ttftMs,
        overhead_ms: rec.overheadMs,
        attempts: rec.attempts,
      },
      'call finished',
    );
  }
}

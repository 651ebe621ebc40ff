/**
 * What the gateway tells about finished calls (GatewayDeps.metrics), fanned out to /metrics and
 * to every other observer (OpenTelemetry spans, alert windows, the debug call log). Each
 * observer's observe() must be O(1) and never throw; one that throws is isolated from the rest.
 */
import type { CallRecord } from '../gateway/call-record';
import type { GatewayMetrics } from './metrics';

export interface CallObserver {
  observe(rec: CallRecord): void;
}

export class CallObservers {
  private observers: CallObserver[] = [];

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Adds an observer; returns a function that removes it. */
  add(observer: CallObserver): () => void {
    this.observers = [...this.observers, observer];
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
    };
  }

  observe(rec: CallRecord): void {
    this.metrics.observe(rec);
    for (const o of this.observers) {
      try {
        o.observe(rec);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  tokensOf(u: CallRecord['usage']): void {
    this.metrics.tokensOf(u);
  }

  streamStarted(): void {
    this.metrics.streamStarted();
  }

  streamEnded(): void {
    this.metrics.streamEnded();
  }
}

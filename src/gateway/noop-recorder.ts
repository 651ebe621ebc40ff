import type { CallRecorder } from './call-record';

/** Used when no trace store is wired: records nothing. */
export class NoopRecorder implements CallRecorder {
  record(): void {
    // tracing off
  }
}

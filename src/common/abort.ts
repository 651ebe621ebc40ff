/**
 * A cancellation handle for one upstream attempt. It is an EventEmitter, which undici accepts
 * as a request signal and which costs far less to make than an AbortSignal; a real AbortSignal
 * is created only if an adapter asks for one.
 */
import { EventEmitter } from 'node:events';

export class UpstreamAbort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  private controller: AbortController | null = null;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
    this.controller?.abort(reason);
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
}

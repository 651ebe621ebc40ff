/**
 * The time bound of a non-stream Coze call, which polls: one signal that fires on the caller's
 * abort or when `timeout_ms` has passed, the latter with a timeout UpstreamError as its reason.
 */
import { UpstreamError } from '../../common/errors';

export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, parent: AbortSignal) {
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      this.timer = setTimeout(() => {
        this.controller.abort(
          new UpstreamError(
            null,
            `upstream coze did not finish the chat within ${timeoutMs} ms`,
            null,
            'timeout',
          ),
        );
      }, timeoutMs);
      this.timer.unref?.();
    }
    this.signal = AbortSignal.any([parent, this.controller.signal]);
  }

  /** True when the time ran out (not when the caller aborted). */
  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortReason(signal, undefined));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal, undefined));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** After an abort, the signal's reason is the error that counts; otherwise `err` itself. */
export function abortReason(signal: AbortSignal, err: unknown): Error {
  const cause: unknown = signal.aborted ? (signal.reason ?? err) : err;
  return cause instanceof Error ? cause : new Error(typeof cause === 'string' ? cause : 'aborted');
}

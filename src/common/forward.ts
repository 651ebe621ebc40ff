/**
 * The pass-through's upstream exchange on undici's dispatch callbacks: the reply's chunks go
 * from the HTTP parser into a small queue that the gateway reads, with no Readable stream,
 * stream events or per-chunk stream machinery in between (undici's `request()` wraps every reply
 * body in one). Back-pressure is kept: past a high-water mark the parser is paused until the
 * reader catches up.
 */
import type { Dispatcher } from 'undici';
import { util as undiciUtil } from 'undici';
import { UpstreamAbort } from './abort';
import { connectionFailed } from './errors';

/** What the gateway reads of a pass-through reply body (undici's body stream has it too). */
export interface PassthroughBody extends AsyncIterable<Buffer> {
  text(): Promise<string>;
}

export interface PassthroughResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: PassthroughBody;
}

/** Bytes queued before the parser is paused (as a Readable's high-water mark would). */
export const HIGH_WATER = 64 * 1024;

type Waiter = {
  resolve: (step: IteratorResult<Buffer, undefined>) => void;
  reject: (err: Error) => void;
};

type Collector = {
  parts: Buffer[];
  size: number;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
};

const DONE: IteratorResult<Buffer, undefined> = { value: undefined, done: true };

/** A reply body fed by the handler; read it once, by iteration or whole (`all`, `text`). */
export class ForwardBody implements PassthroughBody, AsyncIterator<Buffer, undefined> {
  private queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private error: Error | null = null;
  private waiter: Waiter | null = null;
  private collector: Collector | null = null;
  private paused = false;

  constructor(
    private readonly resume: () => void,
    private readonly cancel: () => void,
  ) {}

  /** Bytes received and not yet read. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** From the parser: false pauses it (the queue is full). */
  push(chunk: Buffer): boolean {
    const c = this.collector;
    if (c) {
      c.parts.push(chunk);
      c.size += chunk.length;
      return true;
    }
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.resolve({ value: chunk, done: false });
      return true;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued < HIGH_WATER) return true;
    this.paused = true;
    return false;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const c = this.collector;
    if (c) {
      this.collector = null;
      c.resolve(c.parts.length === 1 ? (c.parts[0] as Buffer) : Buffer.concat(c.parts, c.size));
      return;
    }
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.resolve(DONE);
    }
  }

  fail(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = err;
    const c = this.collector;
    if (c) {
      this.collector = null;
      c.reject(err);
      return;
    }
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.reject(err);
    }
  }

  next(): Promise<IteratorResult<Buffer, undefined>> {
    if (this.queue.length > 0) {
      const value = this.queue.shift() as Buffer;
      this.queued -= value.length;
      if (this.paused && this.queued < HIGH_WATER / 2) {
        this.paused = false;
        this.resume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return this.error === null ? Promise.resolve(DONE) : Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** A reader that stops early (a `for await` left by break or throw) ends the exchange. */
  return(): Promise<IteratorResult<Buffer, undefined>> {
    if (!this.ended) {
      this.ended = true;
      this.queue = [];
      this.cancel();
    }
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer, undefined> {
    return this;
  }

  /** The rest of the body as one Buffer. */
  all(): Promise<Buffer> {
    const parts = this.queue;
    const size = this.queued;
    this.queue = [];
    this.queued = 0;
    if (this.ended) {
      if (this.error !== null) return Promise.reject(this.error);
      return Promise.resolve(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size));
    }
    return new Promise((resolve, reject) => {
      this.collector = { parts, size, resolve, reject };
      if (this.paused) {
        this.paused = false;
        this.resume();
      }
    });
  }

  async text(): Promise<string> {
    return (await this.all()).toString('utf8');
  }
}

/** The cancellation handles the gateway passes: an attempt's UpstreamAbort or an AbortSignal. */
type AbortHandle = UpstreamAbort | AbortSignal;

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error('upstream request aborted');
}

/**
 * A reply at its status line and headers. A class, not an object literal with a getter: every
 * such literal gets a hidden class of its own, allocated in old space, which keeps the whole call
 * (handler, body, raw headers) reachable through every scavenge until the next full collection.
 */
class ForwardReply implements PassthroughResponse {
  private parsed: PassthroughResponse['headers'] | null = null;

  constructor(
    readonly status: number,
    private readonly rawHeaders: Buffer[],
    readonly body: ForwardBody,
  ) {}

  /** Read only for error replies (retry-after): parsed on first use. */
  get headers(): PassthroughResponse['headers'] {
    return (this.parsed ??= undiciUtil.parseHeaders(this.rawHeaders) as PassthroughResponse['headers']);
  }
}

/** undici's legacy dispatch handler (the one its client calls without an adapter in between). */
class ForwardHandler {
  private abortRequest: ((err?: Error) => void) | null = null;
  private body: ForwardBody | null = null;
  private readonly onAbort = (): void => {
    this.abortRequest?.(asError(this.signal?.reason));
  };

  constructor(
    private readonly resolve: (res: PassthroughResponse) => void,
    private readonly reject: (err: Error) => void,
    private readonly signal: AbortHandle | null,
  ) {
    if (signal instanceof UpstreamAbort) signal.on('abort', this.onAbort);
    else signal?.addEventListener('abort', this.onAbort);
  }

  private unlisten(): void {
    const s = this.signal;
    if (s instanceof UpstreamAbort) s.removeListener('abort', this.onAbort);
    else s?.removeEventListener('abort', this.onAbort);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.signal?.aborted) abort(asError(this.signal.reason));
    else this.abortRequest = abort;
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (status < 200) return true;
    const body = new ForwardBody(resume, () => this.abortRequest?.(new Error('reply body closed by reader')));
    this.body = body;
    this.resolve(new ForwardReply(status, rawHeaders, body));
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.body ? this.body.push(chunk) : true;
  }

  onComplete(): void {
    this.unlisten();
    this.body?.end();
  }

  onError(err: Error): void {
    this.unlisten();
    if (this.body) {
      this.body.fail(err);
      return;
    }
    if (this.signal?.aborted) {
      this.reject(this.signal.reason instanceof Error ? this.signal.reason : err);
      return;
    }
    this.reject(connectionFailed(err));
  }
}

/** Sends one request on `dispatcher`; resolves at the reply's status line and headers. */
export function forward(
  dispatcher: Dispatcher,
  opts: { path: string; method: string; headers: Record<string, string>; body: string | Buffer | null },
  signal: AbortHandle | null,
): Promise<PassthroughResponse> {
  if (signal?.aborted) return Promise.reject(asError(signal.reason));
  return new Promise((resolve, reject) => {
    const handler = new ForwardHandler(resolve, reject, signal);
    dispatcher.dispatch(
      {
        path: opts.path,
        method: opts.method,
        headers: opts.headers,
        body: opts.body,
      },
      handler,
    );
  });
}

/**
 * Where a call's response goes: the client's HTTP response, or a collector for calls the
 * gateway makes itself (replay, image descriptions). Writes honour back-pressure; the writes of
 * one tick leave as one (one socket write, one chunk of the chunked encoding).
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

export interface ClientSink {
  /** True once the status line went out (no more fallback, no error status possible). */
  readonly headersSent: boolean;
  /** True when the client went away before the response was finished. */
  readonly closedEarly: boolean;
  writeHead(status: number, headers: Record<string, string>): void;
  write(chunk: Buffer | string): Promise<void> | void;
  end(chunk?: Buffer | string): void;
  /** Called once if the client disconnects before the end. */
  onClose(cb: () => void): void;
}

export class HttpSink implements ClientSink {
  private closed = false;
  private closeCb: (() => void) | null = null;
  /** Writes of the current tick, sent as one write (one chunk of the chunked encoding) on the next. */
  private parts: Array<Buffer | string> = [];
  private scheduled = false;
  /** Set while the socket buffer is full: writers wait for it. */
  private drained: Promise<void> | null = null;
  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.closed || this.parts.length === 0) return;
    if (!this.res.write(this.take()) && !this.drained) {
      this.drained = once(this.res, 'drain').then(
        () => {
          this.drained = null;
        },
        () => {
          this.drained = null;
        },
      );
    }
  };

  constructor(private readonly res: ServerResponse) {
    res.once('close', () => {
      if (!res.writableFinished) {
        this.closed = true;
        this.parts = [];
        this.closeCb?.();
      }
    });
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  get closedEarly(): boolean {
    return this.closed;
  }

  writeHead(status: number, headers: Record<string, string>): void {
    this.res.writeHead(status, headers);
  }

  write(chunk: Buffer | string): Promise<void> | void {
    if (this.closed) return;
    this.parts.push(chunk);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
    if (this.drained) return this.drained;
  }

  end(chunk?: Buffer | string): void {
    if (this.closed) return;
    if (chunk !== undefined) this.parts.push(chunk);
    if (this.parts.length === 0) this.res.end();
    else this.res.end(this.take());
  }

  onClose(cb: () => void): void {
    this.closeCb = cb;
  }

  /** The pending writes as one: the only one as it is, strings joined, else bytes concatenated. */
  private take(): Buffer | string {
    const parts = this.parts;
    this.parts = [];
    if (parts.length === 1) return parts[0] as Buffer | string;
    if (parts.every((p) => typeof p === 'string')) return parts.join('');
    return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  }
}

export class CollectSink implements ClientSink {
  status = 0;
  headers: Record<string, string> = {};
  readonly chunks: Buffer[] = [];
  private sent = false;

  get headersSent(): boolean {
    return this.sent;
  }

  get closedEarly(): boolean {
    return false;
  }

  writeHead(status: number, headers: Record<string, string>): void {
    this.status = status;
    this.headers = headers;
    this.sent = true;
  }

  write(chunk: Buffer | string): void {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }

  end(chunk?: Buffer | string): void {
    if (chunk !== undefined) this.write(chunk);
  }

  onClose(): void {
    // a collector never disconnects
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

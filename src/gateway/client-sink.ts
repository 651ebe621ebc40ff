/**
 * Where a call's response goes: the client's HTTP response, or a collector for calls the
 * gateway makes itself (replay, image descriptions). Writes honour back-pressure.
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
  private corked = false;
  private closeCb: (() => void) | null = null;
  /** Writes made in one tick leave in one syscall. */
  private readonly uncork = (): void => {
    this.corked = false;
    this.res.uncork();
  };

  constructor(private readonly res: ServerResponse) {
    res.once('close', () => {
      if (!res.writableFinished) {
        this.closed = true;
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
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      process.nextTick(this.uncork);
    }
    if (!this.res.write(chunk)) return once(this.res, 'drain').then(() => undefined);
  }

  end(chunk?: Buffer | string): void {
    if (this.closed) return;
    if (chunk === undefined) this.res.end();
    else this.res.end(chunk);
  }

  onClose(cb: () => void): void {
    this.closeCb = cb;
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

/**
 * Upstream HTTP transport: one keep-alive undici Pool per origin. Adapters call `request`; the
 * caller owns the AbortSignal (the gateway aborts on timeout and on client disconnect).
 */
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { UpstreamAbort } from './abort';
import { connectionFailed, UpstreamError } from './errors';
import { forward, type PassthroughResponse } from './forward';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  url: string;
  method?: HttpMethod;
  headers?: Record<string, string>;
  body?: string | Buffer;
  signal?: AbortSignal | UpstreamAbort;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
  /**
   * Pass-through exchanges: the same request, its reply body read without a stream in between.
   * Optional: a client without it serves pass-through calls with `request`.
   */
  forward?(req: HttpRequest): Promise<PassthroughResponse>;
}

export class UpstreamHttp implements HttpClient {
  private readonly pools = new Map<string, Pool>();
  /** Parsed upstream URLs: a provider calls the same few URLs over and over. */
  private readonly urls = new Map<string, { origin: string; path: string }>();

  constructor(private readonly options: Pool.Options = {}) {}

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        // No cap: every concurrent call gets its own connection (streams last minutes; a cap
        // would queue calls behind them until their first-byte timeout).
        connections: null,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        headersTimeout: 0,
        bodyTimeout: 0,
        ...this.options,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  private target(raw: string): { origin: string; path: string } {
    let url = this.urls.get(raw);
    if (!url) {
      try {
        const u = new URL(raw);
        url = { origin: u.origin, path: u.pathname + u.search };
      } catch {
        throw new UpstreamError(null, `invalid upstream URL`, null, 'connection');
      }
      if (this.urls.size > 10_000) this.urls.clear();
      this.urls.set(raw, url);
    }
    return url;
  }

  forward(req: HttpRequest): Promise<PassthroughResponse> {
    let url: { origin: string; path: string };
    try {
      url = this.target(req.url);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return forward(
      this.pool(url.origin),
      { path: url.path, method: req.method ?? 'POST', headers: req.headers ?? {}, body: req.body ?? null },
      req.signal ?? null,
    );
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const url = this.target(req.url);
    try {
      const res = await this.pool(url.origin).request({
        path: url.path,
        method: req.method ?? 'POST',
        headers: req.headers ?? {},
        body: req.body ?? null,
        signal: req.signal ?? null,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      if (req.signal?.aborted) throw (req.signal.reason as Error | undefined) ?? err;
      throw connectionFailed(err);
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
  }
}

/** Read a JSON body; a body that is not JSON gives a protocol UpstreamError. */
export async function readJson(res: PassthroughResponse): Promise<unknown> {
  const text = await res.body.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UpstreamError(res.status, `upstream returned a body that is not JSON`, null, 'protocol');
  }
}

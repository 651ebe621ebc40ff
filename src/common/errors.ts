/** Errors in OpenAI's shape: {"error": {"message", "type", "param", "code"}} (SPEC §3). */

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = typeForStatus(status),
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  static badRequest(message: string, param: string | null = null, code: string | null = null): GatewayError {
    return new GatewayError(400, message, 'invalid_request_error', code, param);
  }
}

export function typeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'invalid_request_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** Failure of one upstream attempt. `status` is the upstream HTTP status, or null (connection error, timeout). */
export class UpstreamError extends Error {
  constructor(
    readonly status: number | null,
    message: string,
    /** The error in OpenAI's shape, when the upstream answered with one (or the adapter mapped it). */
    readonly body: OpenAIErrorBody | null = null,
    readonly kind: 'http' | 'timeout' | 'connection' | 'protocol' = status === null ? 'connection' : 'http',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'UpstreamError';
  }

  /** Connection error, timeout, 408, 429 and 5xx are retried on the next target (SPEC §2 Routing). */
  get retryable(): boolean {
    if (this.status === null) return true;
    return this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** A request that got no reply (refused, reset, DNS): the error's code only, never host or headers. */
export function connectionFailed(err: unknown): UpstreamError {
  const code = (err as { code?: string } | null)?.code ?? 'ECONNERROR';
  return new UpstreamError(null, `upstream connection failed (${code})`, null, 'connection');
}

/** Build an OpenAI-shaped error body from anything an upstream returned. */
export function toOpenAIErrorBody(status: number, raw: unknown, fallbackMessage: string): OpenAIErrorBody {
  if (raw && typeof raw === 'object' && 'error' in raw) {
    const e = raw.error;
    if (e && typeof e === 'object') {
      const o = e as Record<string, unknown>;
      const message = typeof o.message === 'string' ? o.message : fallbackMessage;
      const type = typeof o.type === 'string' ? o.type : typeForStatus(status);
      const code = typeof o.code === 'string' ? o.code : typeof o.code === 'number' ? String(o.code) : null;
      const param = typeof o.param === 'string' ? o.param : null;
      return { error: { message, type, param, code } };
    }
    if (typeof e === 'string')
      return { error: { message: e, type: typeForStatus(status), param: null, code: null } };
  }
  return { error: { message: fallbackMessage, type: typeForStatus(status), param: null, code: null } };
}

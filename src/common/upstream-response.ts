/**
 * Turning a non-2xx upstream reply into an UpstreamError carrying an OpenAI-shaped body. One
 * reader for every adapter: it reads the body (JSON or not), hands it to the platform's mapper
 * and keeps the reply's `retry-after` (or the delay the mapper found in the body).
 */
import { toOpenAIErrorBody, UpstreamError, type OpenAIErrorBody } from './errors';
import type { PassthroughResponse } from './forward';

/** What a platform's error mapper makes of one error reply. */
export interface MappedUpstreamError {
  body: OpenAIErrorBody;
  /** The status the error carries (default: the upstream's HTTP status). */
  status?: number;
  /** The message for logs and attempt records (default: `upstream error <status>: <message>`). */
  message?: string;
  /** A retry delay in seconds read from the body, used when the reply has no `retry-after` header. */
  retryAfter?: string | undefined;
}

/** `raw` is the parsed JSON body (null when it was not JSON), `text` the body as received. */
export type UpstreamErrorMapper = (status: number, raw: unknown, text: string) => MappedUpstreamError;

export async function readUpstreamError(
  res: PassthroughResponse,
  map: UpstreamErrorMapper,
): Promise<UpstreamError> {
  let text = '';
  try {
    text = await res.body.text();
  } catch {
    // body unreadable: the status still tells
  }
  let raw: unknown = null;
  try {
    raw = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    raw = null;
  }
  const mapped = map(res.status, raw, text);
  const status = mapped.status ?? res.status;
  const headers: Record<string, string> = {};
  const header = res.headers['retry-after'];
  const retryAfter = typeof header === 'string' ? header : mapped.retryAfter;
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  const message = mapped.message ?? `upstream error ${status}: ${mapped.body.error.message}`;
  return new UpstreamError(status, message, mapped.body, 'http', headers);
}

/** OpenAI-format upstreams: the body is already (nearly) OpenAI's error shape. */
export function upstreamErrorFrom(res: PassthroughResponse, provider: string): Promise<UpstreamError> {
  return readUpstreamError(res, (status, raw) => {
    const body = toOpenAIErrorBody(status, raw, `upstream ${provider} answered HTTP ${status}`);
    return { body, message: body.error.message };
  });
}

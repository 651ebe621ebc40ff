/** Turning a non-2xx upstream reply into an UpstreamError carrying an OpenAI-shaped body. */
import { toOpenAIErrorBody, UpstreamError } from './errors';
import type { HttpResponse } from './http';

export async function upstreamErrorFrom(res: HttpResponse, provider: string): Promise<UpstreamError> {
  let text = '';
  try {
    text = await res.body.text();
  } catch {
    // body unreadable: the status still tells
  }
  let parsed: unknown = null;
  try {
    parsed = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    parsed = null;
  }
  const body = toOpenAIErrorBody(res.status, parsed, `upstream ${provider} answered HTTP ${res.status}`);
  const headers: Record<string, string> = {};
  const retryAfter = res.headers['retry-after'];
  if (typeof retryAfter === 'string') headers['retry-after'] = retryAfter;
  return new UpstreamError(res.status, body.error.message, body, 'http', headers);
}

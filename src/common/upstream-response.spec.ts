/** readUpstreamError: one reader of error replies for every adapter, each with its own mapper. */
import { Readable } from 'node:stream';
import type { HttpResponse } from './http';
import { readUpstreamError, upstreamErrorFrom } from './upstream-response';

function reply(status: number, text: string, headers: Record<string, string> = {}): HttpResponse {
  const stream = Readable.from([Buffer.from(text)]);
  const body = Object.assign(stream, {
    text: async () => text,
  }) as unknown as HttpResponse['body'];
  return { status, headers, body };
}

describe('readUpstreamError', () => {
  it('hands the parsed body and the text to the mapper and keeps its status and message', async () => {
    const seen: unknown[] = [];
    const err = await readUpstreamError(
      reply(529, '{"error":{"type":"overloaded_error"}}'),
      (s, raw, text) => {
        seen.push(s, raw, text);
        return {
          status: 503,
          message: 'mapped',
          body: { error: { message: 'Overloaded', type: 'api_error', param: null, code: 'overloaded' } },
        };
      },
    );
    expect(seen).toEqual([
      529,
      { error: { type: 'overloaded_error' } },
      '{"error":{"type":"overloaded_error"}}',
    ]);
    expect(err.status).toBe(503);
    expect(err.message).toBe('mapped');
    expect(err.retryable).toBe(true);
    expect(err.body?.error.code).toBe('overloaded');
  });

  it('gives the mapper null for a body that is not JSON, and builds a default message', async () => {
    const err = await readUpstreamError(reply(502, '<html>bad gateway</html>'), (_s, raw, text) => ({
      body: { error: { message: raw === null ? text : 'json', type: 'api_error', param: null, code: null } },
    }));
    expect(err.message).toBe('upstream error 502: <html>bad gateway</html>');
  });

  it('prefers the retry-after header over a delay found in the body', async () => {
    const map = (): { body: never; retryAfter: string } => ({
      body: { error: { message: 'slow down', type: 'rate_limit_error', param: null, code: null } } as never,
      retryAfter: '9',
    });
    expect((await readUpstreamError(reply(429, '{}', { 'retry-after': '3' }), map)).headers).toEqual({
      'retry-after': '3',
    });
    expect((await readUpstreamError(reply(429, '{}'), map)).headers).toEqual({ 'retry-after': '9' });
  });

  it('reads an OpenAI-format error body as it is (upstreamErrorFrom)', async () => {
    const err = await upstreamErrorFrom(
      reply(400, '{"error":{"message":"bad","type":"invalid_request_error","param":"messages","code":"x"}}'),
      'up',
    );
    expect(err.body).toEqual({
      error: { message: 'bad', type: 'invalid_request_error', param: 'messages', code: 'x' },
    });
    expect(err.message).toBe('bad');
    const empty = await upstreamErrorFrom(reply(500, ''), 'up');
    expect(empty.body?.error.message).toBe('upstream up answered HTTP 500');
  });
});

/**
 * The /v1 call routes on raw node:http, ahead of Fastify and Nest: the request goes from the
 * socket to the gateway service with one body read and one JSON.parse, and nothing else.
 * Every other route (admin, traces API, UI, health, models) is served by Nest on Fastify.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { GatewayError, type OpenAIErrorBody } from '../common/errors';
import { HttpSink } from './client-sink';
import type { GatewayService } from './gateway.service';
import type { Endpoint } from './request-checks';

const ENDPOINTS = new Set<string>(['/v1/chat/completions', '/v1/completions', '/v1/embeddings']);

export type FastHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

function sendError(res: ServerResponse, err: GatewayError): void {
  const body: OpenAIErrorBody = err.toBody();
  res.writeHead(err.status, { 'content-type': 'application/json', 'x-gateway-overhead-ms': '0.000' });
  res.end(JSON.stringify(body));
}

/** How long and how much of an oversized body is still read after the 413 went out. */
export const LINGER_MS = 5_000;
export const LINGER_BYTES = 16 * 1024 * 1024;

/**
 * Answers 413 at once, then keeps reading (and dropping) what the client is still sending before
 * closing, up to LINGER_BYTES or LINGER_MS. Closing with unread bytes in the socket makes the
 * kernel reset the connection, and a client still writing its body then sees EPIPE or ECONNRESET
 * instead of the answer.
 */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse): void {
  const text = JSON.stringify(
    new GatewayError(
      413,
      'Request body is larger than the limit.',
      'invalid_request_error',
      'request_too_large',
    ).toBody(),
  );
  res.writeHead(413, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    connection: 'close',
    'x-gateway-overhead-ms': '0.000',
  });
  res.write(text);
  let read = 0;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    req.off('data', count);
    res.end();
  };
  const count = (c: Buffer): void => {
    read += c.length;
    if (read > LINGER_BYTES) finish();
  };
  const timer = setTimeout(finish, LINGER_MS);
  timer.unref();
  req.on('data', count);
  req.once('end', finish);
  req.once('error', finish);
  req.once('close', finish);
  req.resume();
}

/** Returns a handler that takes the /v1 call routes and returns false for anything else. */
export function createFastPath(
  gateway: () => GatewayService | null,
  bodyLimitBytes: () => number,
): FastHandler {
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (!ENDPOINTS.has(path)) return false;
    const service = gateway();
    if (!service) return false;
    const t0 = performance.now();
    const limit = bodyLimitBytes();
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      refuseTooLarge(req, res);
      return true;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        parts.length = 0;
        refuseTooLarge(req, res);
        return;
      }
      parts.push(c);
    });
    req.on('error', () => {
      failed = true;
    });
    req.on('end', () => {
      if (failed) return;
      const bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
      const text = bytes.toString('utf8');
      let body: unknown;
      try {
        body = text.length === 0 ? undefined : JSON.parse(text);
      } catch {
        sendError(
          res,
          GatewayError.badRequest('We could not parse the JSON body of your request.', null, 'invalid_json'),
        );
        return;
      }
      if (body === undefined) {
        sendError(res, GatewayError.badRequest('The request body is empty; a JSON object is expected.'));
        return;
      }
      void service.handle({
        endpoint: path as Endpoint,
        body,
        bytes,
        headers: req.headers,
        t0,
        sink: new HttpSink(res),
      });
    });
    return true;
  };
}

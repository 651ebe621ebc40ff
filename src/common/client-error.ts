/**
 * Answers requests that fail before any route sees them (malformed HTTP, headers over the size
 * limit, request timeouts) with an OpenAI-shaped error body, like every other error (SPEC §3).
 * Installed as Fastify's `clientErrorHandler` (node:http's 'clientError' event).
 */
import type { Socket } from 'node:net';
import type { OpenAIErrorBody } from './errors';

interface ClientErrorLike {
  code?: string;
}

function answer(err: ClientErrorLike): { status: number; reason: string; body: OpenAIErrorBody } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      reason: 'Request Timeout',
      body: {
        error: {
          message: 'The request was not received in time.',
          type: 'invalid_request_error',
          param: null,
          code: 'request_timeout',
        },
      },
    };
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      reason: 'Request Header Fields Too Large',
      body: {
        error: {
          message: 'The request headers are larger than the limit.',
          type: 'invalid_request_error',
          param: null,
          code: 'headers_too_large',
        },
      },
    };
  }
  return {
    status: 400,
    reason: 'Bad Request',
    body: {
      error: {
        message: 'The HTTP request is malformed.',
        type: 'invalid_request_error',
        param: null,
        code: 'bad_request',
      },
    },
  };
}

export function openAIClientErrorHandler(err: Error & ClientErrorLike, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const { status, reason, body } = answer(err);
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}

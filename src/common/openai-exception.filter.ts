/** Every error leaving a Nest controller in OpenAI's shape (SPEC §3). */
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { GatewayError, typeForStatus, type OpenAIErrorBody } from './errors';

export function toErrorResponse(err: unknown): {
  status: number;
  body: OpenAIErrorBody;
  headers: Record<string, string>;
} {
  if (err instanceof GatewayError) return { status: err.status, body: err.toBody(), headers: err.headers };
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const res = err.getResponse();
    let message = err.message;
    if (res && typeof res === 'object' && 'message' in res) {
      const m = res.message;
      if (Array.isArray(m)) message = m.map(String).join('; ');
      else if (typeof m === 'string') message = m;
    }
    if (status === 413) message = 'Request body is larger than the limit.';
    if (status === 415) message = 'Content-Type must be application/json.';
    const code =
      status === 404
        ? 'not_found'
        : status === 413
          ? 'request_too_large'
          : status === 415
            ? 'unsupported_media_type'
            : null;
    return {
      status,
      body: { error: { message, type: typeForStatus(status), param: null, code } },
      headers: {},
    };
  }
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown } | null;
  const statusCode = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  const fastifyCode = typeof e?.code === 'string' ? e.code : '';
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      status: 413,
      body: {
        error: {
          message: 'Request body is larger than the limit.',
          type: 'invalid_request_error',
          param: null,
          code: 'request_too_large',
        },
      },
      headers: {},
    };
  }
  if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 415,
      body: {
        error: {
          message: 'Content-Type must be application/json.',
          type: 'invalid_request_error',
          param: null,
          code: 'unsupported_media_type',
        },
      },
      headers: {},
    };
  }
  if (statusCode >= 400 && statusCode < 500) {
    const message = typeof e?.message === 'string' ? e.message : 'Bad request.';
    return {
      status: statusCode,
      body: { error: { message, type: 'invalid_request_error', param: null, code: null } },
      headers: {},
    };
  }
  return {
    status: 500,
    body: {
      error: { message: 'Internal gateway error.', type: 'api_error', param: null, code: 'internal_error' },
    },
    headers: {},
  };
}

@Catch()
export class OpenAIExceptionFilter implements ExceptionFilter {
  constructor(private readonly onInternal?: (err: unknown) => void) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body, headers } = toErrorResponse(exception);
    if (status >= 500) this.onInternal?.(exception);
    if (reply.sent) return;
    void reply.status(status).headers(headers).type('application/json').send(body);
  }
}

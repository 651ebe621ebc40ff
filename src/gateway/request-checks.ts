/** Validation of /v1 bodies and headers before routing: 400s in OpenAI's shape. */
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../common/errors';

export type Endpoint = '/v1/chat/completions' | '/v1/completions' | '/v1/embeddings';

export function requireObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw GatewayError.badRequest('The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

export function requireModel(body: Record<string, unknown>): string {
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) {
    throw GatewayError.badRequest('You must provide a model parameter.', 'model', 'missing_model');
  }
  return model;
}

export function checkEndpointBody(endpoint: Endpoint, body: Record<string, unknown>): void {
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') {
    throw GatewayError.badRequest('`stream` must be a boolean.', 'stream', 'invalid_type');
  }
  switch (endpoint) {
    case '/v1/chat/completions': {
      const messages = body.messages;
      if (!Array.isArray(messages) || messages.length === 0) {
        throw GatewayError.badRequest('`messages` must be a non-empty array.', 'messages', 'invalid_type');
      }
      for (let i = 0; i < messages.length; i++) {
        const m: unknown = messages[i];
        if (m === null || typeof m !== 'object' || typeof (m as { role?: unknown }).role !== 'string') {
          throw GatewayError.badRequest(
            `messages[${i}] must be an object with a string \`role\`.`,
            `messages[${i}]`,
            'invalid_type',
          );
        }
        checkContent((m as { content?: unknown }).content, i);
      }
      checkParams(body);
      const opts = body.stream_options;
      if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) {
        throw GatewayError.badRequest(
          '`stream_options` must be an object.',
          'stream_options',
          'invalid_type',
        );
      }
      break;
    }
    case '/v1/completions':
      if (body.prompt === undefined) {
        throw GatewayError.badRequest('You must provide a prompt parameter.', 'prompt', 'missing_prompt');
      }
      break;
    case '/v1/embeddings':
      if (body.input === undefined || body.input === null) {
        throw GatewayError.badRequest('You must provide an input parameter.', 'input', 'missing_input');
      }
      break;
  }
}

/** `content`: a string, null/absent, or an array of part objects (OpenAI's message schema). */
function checkContent(content: unknown, i: number): void {
  if (content === undefined || content === null || typeof content === 'string') return;
  if (
    Array.isArray(content) &&
    content.every((p) => p !== null && typeof p === 'object' && !Array.isArray(p))
  ) {
    return;
  }
  throw GatewayError.badRequest(
    `messages[${i}].content must be a string or an array of content parts.`,
    `messages[${i}].content`,
    'invalid_type',
  );
}

const INTEGER_PARAMS = ['max_tokens', 'max_completion_tokens', 'n', 'seed', 'top_logprobs'] as const;
const NUMBER_PARAMS = ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty'] as const;

/** Type checks of the well-known scalar parameters (null counts as absent); ranges are the provider's. */
function checkParams(body: Record<string, unknown>): void {
  for (const name of INTEGER_PARAMS) {
    const v = body[name];
    if (v !== undefined && v !== null && !Number.isInteger(v)) {
      throw GatewayError.badRequest(`\`${name}\` must be an integer.`, name, 'invalid_type');
    }
  }
  for (const name of NUMBER_PARAMS) {
    const v = body[name];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
      throw GatewayError.badRequest(`\`${name}\` must be a number.`, name, 'invalid_type');
    }
  }
  const tools = body.tools;
  if (tools !== undefined && tools !== null && !Array.isArray(tools)) {
    throw GatewayError.badRequest('`tools` must be an array.', 'tools', 'invalid_type');
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function sessionIdFrom(headers: IncomingHttpHeaders): string | null {
  const v = header(headers, 'x-session-id')?.trim();
  if (!v) return null;
  if (v.length > 200) throw GatewayError.badRequest('X-Session-Id is longer than 200 characters.');
  return v;
}

export function metadataFrom(headers: IncomingHttpHeaders): Record<string, unknown> | null {
  const raw = header(headers, 'x-trace-metadata');
  if (!raw) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw GatewayError.badRequest('X-Trace-Metadata must be a JSON object.', null, 'invalid_metadata');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw GatewayError.badRequest('X-Trace-Metadata must be a JSON object.', null, 'invalid_metadata');
  }
  return parsed as Record<string, unknown>;
}

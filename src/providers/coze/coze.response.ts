/**
 * Coze replies → OpenAI format: the `{code, msg, data}` envelope, errors, usage, and the
 * non-stream chat.completion built from a finished chat and its message list.
 */
import { randomUUID } from 'node:crypto';
import { typeForStatus, UpstreamError } from '../../common/errors';
import type { OpenAIErrorBody } from '../../common/errors';
import type { ChatCompletion, ChatCompletionMessage, UsageDetails } from '../../common/openai.types';
import type { MappedUpstreamError, UpstreamErrorMapper } from '../../common/upstream-response';
import type { CozeChat, CozeEnvelope, CozeMessage, CozeUsage } from './coze.types';

/** Coze error codes that mean a bad or unauthorised token. */
const AUTH_CODES = new Set([4100, 4101]);
/** Coze error codes that mean a rate limit or spent quota. */
const RATE_LIMIT_CODES = new Set([4013, 4029]);

/**
 * The HTTP status an error stands for: the upstream's own when it is an error status; for a
 * 200 that carries an error code, 401 for auth codes, 429 for rate-limit codes, else `fallback`.
 */
export function statusForCode(httpStatus: number, code: number | undefined, fallback = 400): number {
  if (httpStatus >= 400) return httpStatus;
  if (code !== undefined && AUTH_CODES.has(code)) return 401;
  if (code !== undefined && RATE_LIMIT_CODES.has(code)) return 429;
  return fallback;
}

export function cozeErrorBody(status: number, code: number | undefined, msg: string): OpenAIErrorBody {
  return {
    error: {
      message: msg,
      type: typeForStatus(status),
      param: null,
      code: code === undefined ? null : String(code),
    },
  };
}

/** A Coze `{code, msg}` failure in OpenAI's shape, with the status it maps to. */
export function mapCozeError(
  httpStatus: number,
  code: number | undefined,
  msg: string | undefined,
  fallbackStatus = 400,
): Required<Omit<MappedUpstreamError, 'retryAfter'>> {
  const status = statusForCode(httpStatus, code, fallbackStatus);
  const message = msg && msg.length > 0 ? msg : `upstream coze answered HTTP ${httpStatus}`;
  const suffix = code === undefined ? '' : ` (code ${code})`;
  return {
    status,
    message: `upstream coze error ${status}: ${message}${suffix}`,
    body: cozeErrorBody(status, code, message),
  };
}

/** The mapper for a non-2xx Coze reply (`readUpstreamError`): its body is a `{code, msg}` envelope. */
export const mapCozeHttpError: UpstreamErrorMapper = (status, raw) => {
  const { code, msg } = codeAndMsg(raw);
  return mapCozeError(status, code, msg);
};

/** An UpstreamError for a Coze `{code, msg}` failure. */
export function cozeError(
  httpStatus: number,
  code: number | undefined,
  msg: string | undefined,
  fallbackStatus = 400,
  headers: Record<string, string> = {},
): UpstreamError {
  const e = mapCozeError(httpStatus, code, msg, fallbackStatus);
  return new UpstreamError(e.status, e.message, e.body, 'http', headers);
}

/** Reads `code` and `msg` from whatever a Coze error reply holds. */
export function codeAndMsg(raw: unknown): { code: number | undefined; msg: string | undefined } {
  if (!raw || typeof raw !== 'object') return { code: undefined, msg: undefined };
  const o = raw as Record<string, unknown>;
  const code = typeof o.code === 'number' ? o.code : typeof o.code === 'string' ? Number(o.code) : undefined;
  const msg = typeof o.msg === 'string' ? o.msg : typeof o.message === 'string' ? o.message : undefined;
  return { code: code !== undefined && Number.isFinite(code) ? code : undefined, msg };
}

/**
 * The `data` of a parsed envelope; an envelope with `code` ≠ 0 (or a non-2xx status) is
 * thrown as an UpstreamError in OpenAI's shape.
 */
export function unwrapEnvelope<T>(httpStatus: number, raw: unknown, headers: Record<string, string> = {}): T {
  const { code, msg } = codeAndMsg(raw);
  if (httpStatus >= 200 && httpStatus < 300 && (code === undefined || code === 0)) {
    const data = (raw as CozeEnvelope<T> | null)?.data;
    if (data === undefined || data === null) {
      throw new UpstreamError(httpStatus, 'upstream coze answered without data', null, 'protocol');
    }
    return data;
  }
  throw cozeError(httpStatus, code, msg, 400, headers);
}

export function mapUsage(usage: CozeUsage | null | undefined): UsageDetails | undefined {
  if (!usage) return undefined;
  const prompt = usage.input_count ?? 0;
  const completion = usage.output_count ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage.token_count ?? prompt + completion,
  };
}

/** A chat that ended in `failed`: its `last_error` as an UpstreamError (retryable unless auth/rate). */
export function chatFailedError(chat: Pick<CozeChat, 'last_error'>): UpstreamError {
  const code = chat.last_error?.code;
  const msg = chat.last_error?.msg ?? 'the Coze chat failed';
  return cozeError(200, code, `chat failed: ${msg}`, 500);
}

/** Only the bot's answers make the reply; follow-up suggestions, verbose packets and tool traffic do not. */
export function isAnswer(m: CozeMessage): boolean {
  return m.type === 'answer' && (m.role === undefined || m.role === 'assistant');
}

/** Separate answer messages (a workflow may send several) are joined by a blank line. */
export const ANSWER_SEPARATOR = '\n\n';

export function completionId(chatId: string | undefined): string {
  return `chatcmpl-${chatId ?? randomUUID()}`;
}

export function toChatCompletion(
  chat: CozeChat,
  messages: readonly CozeMessage[],
  model: string,
  created: number,
): ChatCompletion {
  const answers = messages.filter(isAnswer);
  const content = answers.map((m) => m.content ?? '').join(ANSWER_SEPARATOR);
  const reasoning = answers
    .map((m) => m.reasoning_content ?? '')
    .filter((r) => r.length > 0)
    .join(ANSWER_SEPARATOR);
  const message: ChatCompletionMessage = { role: 'assistant', content, refusal: null };
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  const completion: ChatCompletion = {
    id: completionId(chat.id),
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, finish_reason: 'stop', logprobs: null }],
  };
  const usage = mapUsage(chat.usage);
  if (usage) completion.usage = usage;
  return completion;
}

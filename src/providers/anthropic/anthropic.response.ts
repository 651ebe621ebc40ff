/**
 * Anthropic Messages responses → OpenAI format: the chat.completion, finish reasons, usage,
 * errors and the model list. Pure functions: no I/O.
 */
import type { OpenAIErrorBody } from '../../common/errors';
import type {
  ChatCompletion,
  ChatCompletionMessage,
  ChatToolCall,
  FinishReason,
  Model,
  ThinkingBlock,
  UsageDetails,
} from '../../common/openai.types';
import type {
  AnthropicModelInfo,
  AnthropicResponse,
  AnthropicResponseBlock,
  AnthropicUsage,
} from './anthropic.types';

// ---------------------------------------------------------------------------------------------
// finish reasons (reference: Messages API, `stop_reason`)

const STOP_REASONS: Readonly<Record<string, FinishReason>> = {
  end_turn: 'stop', // natural end of the turn
  stop_sequence: 'stop', // one of `stop_sequences` was generated
  max_tokens: 'length', // `max_tokens` reached
  model_context_window_exceeded: 'length', // the context window filled up
  tool_use: 'tool_calls', // the model called one or more tools
  pause_turn: 'stop', // a long server-tool turn paused; the client may continue it
  refusal: 'content_filter', // streaming classifiers stopped the answer
};

/** Anthropic `stop_reason` → OpenAI `finish_reason`; an unknown reason is `stop`. */
export function mapStopReason(reason: string | null | undefined): FinishReason {
  return (reason ? STOP_REASONS[reason] : undefined) ?? 'stop';
}

// ---------------------------------------------------------------------------------------------
// usage

/** Anthropic counts cached input apart from `input_tokens`; OpenAI's prompt count includes it. */
export function mapUsage(usage: AnthropicUsage | undefined): UsageDetails {
  const input = usage?.input_tokens ?? 0;
  const cacheRead = usage?.cache_read_input_tokens ?? 0;
  const cacheWrite = usage?.cache_creation_input_tokens ?? 0;
  const prompt = input + cacheRead + cacheWrite;
  const completion = usage?.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}

// ---------------------------------------------------------------------------------------------
// the message

export interface ResponseContext {
  created: number;
}

/** Content blocks → message text, tool calls and reasoning. Unknown block types are skipped. */
export function readBlocks(blocks: readonly AnthropicResponseBlock[]): {
  text: string;
  toolCalls: ChatToolCall[];
  reasoning: string;
  thinkingBlocks: ThinkingBlock[];
} {
  let text = '';
  let reasoning = '';
  const toolCalls: ChatToolCall[] = [];
  const thinkingBlocks: ThinkingBlock[] = [];
  for (const block of blocks) {
    const b = block as Record<string, unknown>;
    switch (b.type) {
      case 'text':
        if (typeof b.text === 'string') text += b.text;
        break;
      case 'tool_use':
        toolCalls.push({
          id: String(b.id),
          type: 'function',
          function: { name: String(b.name), arguments: JSON.stringify(b.input ?? {}) },
        });
        break;
      case 'thinking': {
        const thinking = typeof b.thinking === 'string' ? b.thinking : '';
        reasoning += thinking;
        const tb: ThinkingBlock = { type: 'thinking', thinking };
        if (typeof b.signature === 'string') tb.signature = b.signature;
        thinkingBlocks.push(tb);
        break;
      }
      case 'redacted_thinking':
        if (typeof b.data === 'string') thinkingBlocks.push({ type: 'redacted_thinking', data: b.data });
        break;
      default:
        break;
    }
  }
  return { text, toolCalls, reasoning, thinkingBlocks };
}

export function fromAnthropicResponse(res: AnthropicResponse, ctx: ResponseContext): ChatCompletion {
  const parts = readBlocks(Array.isArray(res.content) ? res.content : []);
  const message: ChatCompletionMessage = {
    role: 'assistant',
    content: parts.text.length > 0 || parts.toolCalls.length === 0 ? parts.text : null,
    refusal: null,
  };
  if (parts.toolCalls.length > 0) message.tool_calls = parts.toolCalls;
  if (parts.reasoning.length > 0) message.reasoning_content = parts.reasoning;
  if (parts.thinkingBlocks.length > 0) message.thinking_blocks = parts.thinkingBlocks;
  return {
    id: res.id,
    object: 'chat.completion',
    created: ctx.created,
    model: res.model,
    choices: [{ index: 0, message, finish_reason: mapStopReason(res.stop_reason), logprobs: null }],
    usage: mapUsage(res.usage),
  };
}

// ---------------------------------------------------------------------------------------------
// errors (reference: "HTTP errors" — `{type: "error", error: {type, message}}`)

/** Anthropic error types → the OpenAI error type a client expects, and the usual status. */
const ERROR_TYPES: Readonly<Record<string, { type: string; status: number }>> = {
  invalid_request_error: { type: 'invalid_request_error', status: 400 },
  authentication_error: { type: 'authentication_error', status: 401 },
  billing_error: { type: 'insufficient_quota', status: 402 },
  permission_error: { type: 'permission_error', status: 403 },
  not_found_error: { type: 'invalid_request_error', status: 404 },
  request_too_large: { type: 'invalid_request_error', status: 413 },
  rate_limit_error: { type: 'rate_limit_error', status: 429 },
  timeout_error: { type: 'timeout_error', status: 504 },
  api_error: { type: 'api_error', status: 500 },
  overloaded_error: { type: 'overloaded_error', status: 529 },
};

function fallbackType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 529) return 'overloaded_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** The HTTP status an error event inside a stream stands for. */
export function statusForErrorType(type: string | undefined): number {
  return (type ? ERROR_TYPES[type]?.status : undefined) ?? 500;
}

/** Anthropic's error payload (or any text) → OpenAI's error shape; `code` keeps Anthropic's type. */
export function mapAnthropicError(status: number, raw: unknown, text = ''): OpenAIErrorBody {
  const err =
    raw && typeof raw === 'object' && 'error' in raw && raw.error && typeof raw.error === 'object'
      ? (raw.error as { type?: unknown; message?: unknown })
      : undefined;
  const upstreamType = typeof err?.type === 'string' ? err.type : undefined;
  const message =
    typeof err?.message === 'string' && err.message.length > 0
      ? err.message
      : text.trim().slice(0, 500) || `upstream anthropic answered HTTP ${status}`;
  const type = (upstreamType ? ERROR_TYPES[upstreamType]?.type : undefined) ?? fallbackType(status);
  return { error: { message, type, param: null, code: upstreamType ?? null } };
}

// ---------------------------------------------------------------------------------------------
// models

export function toModels(list: readonly AnthropicModelInfo[]): Model[] {
  return list.map((m) => {
    const created = m.created_at ? Math.floor(Date.parse(m.created_at) / 1000) : 0;
    return {
      id: m.id,
      object: 'model',
      created: Number.isFinite(created) ? created : 0,
      owned_by: 'anthropic',
    };
  });
}

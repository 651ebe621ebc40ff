/** Builders for the transform specs: requests, completions and stream chunks in OpenAI's shape. */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionChunkDelta,
  ChatCompletionRequest,
  ChatToolCall,
} from '../../common/openai.types';

export function chatRequest(
  messages: ChatCompletionRequest['messages'],
  extra: Record<string, unknown> = {},
): ChatCompletionRequest {
  return { model: 'm', messages, ...extra };
}

/**
 * Freezes a value and everything inside it: a step that mutates its input then throws (specs run in
 * strict mode), and the spec also compares against a copy taken before.
 */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export const toolCall = (id = 'call_1'): ChatToolCall => ({
  id,
  type: 'function',
  function: { name: 'lookup', arguments: '{"q":"x"}' },
});

export const imagePart = (url: string) => ({ type: 'image_url' as const, image_url: { url } });
export const textPart = (text: string) => ({ type: 'text' as const, text });

export function completion(
  content: string | null,
  extra: { tool_calls?: ChatToolCall[]; choices?: number } = {},
): ChatCompletion {
  const n = extra.choices ?? 1;
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: Array.from({ length: n }, (_, index) => ({
      index,
      message: {
        role: 'assistant' as const,
        content,
        refusal: null,
        ...(extra.tool_calls ? { tool_calls: extra.tool_calls } : {}),
      },
      finish_reason: extra.tool_calls ? ('tool_calls' as const) : ('stop' as const),
      logprobs: null,
    })),
  };
}

export function chunk(delta: ChatCompletionChunkDelta, index = 0): ChatCompletionChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index, delta, finish_reason: null }],
  };
}

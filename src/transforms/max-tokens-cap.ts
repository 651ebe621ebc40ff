/** `max_tokens_cap: N` — `max_tokens` / `max_completion_tokens` above N lowered to N; absent stays absent. */
import type { ChatCompletionRequest } from '../common/openai.types';

const LIMIT_KEYS = ['max_tokens', 'max_completion_tokens'] as const;

export function maxTokensCap(req: ChatCompletionRequest, cap: number): ChatCompletionRequest {
  let out = req;
  for (const key of LIMIT_KEYS) {
    const v = out[key];
    if (typeof v === 'number' && v > cap) out = { ...out, [key]: cap };
  }
  return out;
}

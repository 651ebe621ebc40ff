/** `stop: [...]` — merged with the request's `stop` (deduplicated, order kept, capped at the provider's limit). */
import type { ChatCompletionRequest } from '../common/openai.types';

export function mergeStop(
  req: ChatCompletionRequest,
  extra: readonly string[],
  maxStop?: number,
): ChatCompletionRequest {
  const own = typeof req.stop === 'string' ? [req.stop] : Array.isArray(req.stop) ? req.stop : [];
  const merged = [...new Set([...own, ...extra])];
  const capped = maxStop !== undefined && maxStop > 0 ? merged.slice(0, maxStop) : merged;
  if (capped.length === 0) return req;
  return { ...req, stop: capped };
}

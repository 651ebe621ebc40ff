/**
 * `stop: [...]` — merged with the request's `stop`: a string counts as a one-item list, the
 * request's sequences come first, duplicates go, order is kept, and the list is capped at the most
 * the platform accepts (`maxStop`) when that is known.
 */
import type { ChatCompletionRequest } from '../common/openai.types';

function requestStop(stop: unknown): string[] {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop)) return stop.filter((s): s is string => typeof s === 'string');
  return [];
}

export function mergeStop(
  req: ChatCompletionRequest,
  extra: readonly string[],
  maxStop?: number,
): ChatCompletionRequest {
  const merged = [...new Set([...requestStop(req.stop), ...extra])];
  const stop = maxStop !== undefined && maxStop > 0 ? merged.slice(0, maxStop) : merged;
  if (stop.length === 0) return req;
  const same =
    Array.isArray(req.stop) && req.stop.length === stop.length && req.stop.every((s, i) => s === stop[i]);
  return same ? req : { ...req, stop };
}

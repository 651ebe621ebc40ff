/** `defaults` (set when absent), `overrides` (always set), `drop_params` (removed before sending). */
import type { ChatCompletionRequest } from '../common/openai.types';

/** Never removed: a request without them is not a chat request. */
const REQUIRED = new Set(['model', 'messages']);

export function applyDefaults(
  req: ChatCompletionRequest,
  defaults: Record<string, unknown>,
): ChatCompletionRequest {
  const missing = Object.entries(defaults).filter(([k]) => req[k] === undefined);
  return missing.length === 0 ? req : { ...req, ...Object.fromEntries(missing) };
}

export function applyOverrides(
  req: ChatCompletionRequest,
  overrides: Record<string, unknown>,
): ChatCompletionRequest {
  return Object.keys(overrides).length === 0 ? req : { ...req, ...overrides };
}

export function dropParams(req: ChatCompletionRequest, names: readonly string[]): ChatCompletionRequest {
  const drop = names.filter((n) => !REQUIRED.has(n) && Object.prototype.hasOwnProperty.call(req, n));
  if (drop.length === 0) return req;
  const out: ChatCompletionRequest = { ...req };
  for (const n of drop) delete out[n];
  return out;
}

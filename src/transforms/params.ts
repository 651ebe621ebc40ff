/** `defaults` (set when absent), `overrides` (always set), `drop_params` (removed). */
import type { ChatCompletionRequest } from '../common/openai.types';

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
  if (!names.some((n) => n in req)) return req;
  const out: ChatCompletionRequest = { ...req };
  for (const n of names) {
    if (n === 'model' || n === 'messages') continue;
    delete out[n];
  }
  return out;
}

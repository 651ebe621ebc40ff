/** The request transform pipeline: the configured steps, in a fixed order, as pure functions. */
import type { ChatCompletionRequest } from '../common/openai.types';
import type { TransformsConfig } from '../config/config.types';
import { dropEmptyMessages } from './drop-empty-messages';
import { maxTokensCap } from './max-tokens-cap';
import { mergeConsecutiveUser } from './merge-consecutive-user';
import { nonEmptyContent } from './non-empty-content';
import { applyDefaults, applyOverrides, dropParams } from './params';
import { mergeStop } from './stop-merge';
import { stripAssistantTags } from './strip-assistant-tags';

/** Keys handled outside the request pipeline (on the response, or by the image cascade). */
const NON_REQUEST_KEYS: ReadonlySet<string> = new Set(['response_prefix', 'image_to_text']);

function defined(t: TransformsConfig | undefined): TransformsConfig {
  if (!t) return {};
  return Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined));
}

/** A route's transforms with a target's keys replacing the route's keys of the same name. */
export function mergeTransforms(route?: TransformsConfig, target?: TransformsConfig): TransformsConfig {
  return { ...defined(route), ...defined(target) };
}

/** True when `applyRequestTransforms` has something to do. */
export function hasRequestTransforms(t: TransformsConfig | undefined): boolean {
  if (!t) return false;
  return Object.entries(t).some(([k, v]) => v !== undefined && !NON_REQUEST_KEYS.has(k));
}

/**
 * Runs the request steps of `t` in order: strip_assistant_tags, merge_consecutive_user,
 * drop_empty_messages, non_empty_content, max_tokens_cap, stop, defaults, overrides, drop_params.
 * Returns a new request when a step changed something, else the same object; never mutates `req`.
 */
export function applyRequestTransforms(
  req: ChatCompletionRequest,
  t: TransformsConfig,
  opts: { maxStop?: number } = {},
): ChatCompletionRequest {
  let out = req;
  if (t.strip_assistant_tags) out = stripAssistantTags(out, t.strip_assistant_tags);
  if (t.merge_consecutive_user) out = mergeConsecutiveUser(out, t.merge_consecutive_user);
  if (t.drop_empty_messages) out = dropEmptyMessages(out);
  if (t.non_empty_content !== undefined) out = nonEmptyContent(out, t.non_empty_content);
  if (t.max_tokens_cap !== undefined) out = maxTokensCap(out, t.max_tokens_cap);
  if (t.stop) out = mergeStop(out, t.stop, opts.maxStop);
  if (t.defaults) out = applyDefaults(out, t.defaults);
  if (t.overrides) out = applyOverrides(out, t.overrides);
  if (t.drop_params) out = dropParams(out, t.drop_params);
  return out;
}

/** The request transform pipeline: each configured step, in a fixed order, as pure functions. */
import type { ChatCompletionRequest } from '../common/openai.types';
import type { TransformsConfig } from '../config/config.types';
import { dropEmptyMessages } from './drop-empty-messages';
import { maxTokensCap } from './max-tokens-cap';
import { mergeConsecutiveUser } from './merge-consecutive-user';
import { nonEmptyContent } from './non-empty-content';
import { applyDefaults, applyOverrides, dropParams } from './params';
import { mergeStop } from './stop-merge';
import { stripAssistantTags } from './strip-assistant-tags';

/** Route transforms with a target's keys replacing the route's keys of the same name. */
export function mergeTransforms(route?: TransformsConfig, target?: TransformsConfig): TransformsConfig {
  return { ...(route ?? {}), ...(target ?? {}) };
}

export function hasRequestTransforms(t: TransformsConfig | undefined): boolean {
  if (!t) return false;
  return Object.keys(t).some((k) => k !== 'response_prefix' && k !== 'image_to_text');
}

export function applyRequestTransforms(
  req: ChatCompletionRequest,
  t: TransformsConfig,
  opts: { maxStop?: number } = {},
): ChatCompletionRequest {
  let out = req;
  if (t.strip_assistant_tags) out = stripAssistantTags(out, t.strip_assistant_tags);
  if (t.drop_empty_messages) out = dropEmptyMessages(out);
  if (t.merge_consecutive_user) out = mergeConsecutiveUser(out, t.merge_consecutive_user);
  if (t.non_empty_content !== undefined) out = nonEmptyContent(out, t.non_empty_content);
  if (t.max_tokens_cap !== undefined) out = maxTokensCap(out, t.max_tokens_cap);
  if (t.stop) out = mergeStop(out, t.stop, opts.maxStop);
  else if (opts.maxStop !== undefined && Array.isArray(out.stop) && out.stop.length > opts.maxStop) {
    out = mergeStop(out, [], opts.maxStop);
  }
  if (t.defaults) out = applyDefaults(out, t.defaults);
  if (t.overrides) out = applyOverrides(out, t.overrides);
  if (t.drop_params) out = dropParams(out, t.drop_params);
  return out;
}

/**
 * `non_empty_content: "."` — empty content, in messages of any role, replaced with this text (some
 * providers reject empty content). Empty means an empty or whitespace string, a parts list with no
 * content in it, or no content at all; an assistant message that calls tools may keep null content.
 */
import type { ChatCompletionRequest, ChatMessage } from '../common/openai.types';
import { hasToolCalls, isBlankContent } from './content';

export function nonEmptyContent(req: ChatCompletionRequest, text: string): ChatCompletionRequest {
  let changed = false;
  const messages = req.messages.map((m): ChatMessage => {
    if (hasToolCalls(m) && (m.content === null || m.content === undefined)) return m;
    if (!isBlankContent(m.content)) return m;
    changed = true;
    return { ...m, content: text };
  });
  return changed ? { ...req, messages } : req;
}

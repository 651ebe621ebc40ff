/** `non_empty_content: "."` — empty content, in messages of any role, replaced with this text. */
import type { ChatCompletionRequest, ChatMessage } from '../common/openai.types';
import { hasToolCalls, isBlankContent } from './content';

export function nonEmptyContent(req: ChatCompletionRequest, text: string): ChatCompletionRequest {
  let changed = false;
  const messages = req.messages.map((m): ChatMessage => {
    // an assistant tool-call message may carry null content: that is not "empty content"
    if (hasToolCalls(m) && (m.content === null || m.content === undefined)) return m;
    if (!isBlankContent(m.content)) return m;
    changed = true;
    return { ...m, content: text };
  });
  return changed ? { ...req, messages } : req;
}

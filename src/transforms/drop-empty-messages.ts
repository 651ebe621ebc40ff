/**
 * `drop_empty_messages: true` — drop messages whose content is empty or only whitespace. Assistant
 * messages that call tools and tool results stay: removing them would break the tool-call pairing.
 */
import type { ChatCompletionRequest } from '../common/openai.types';
import { hasToolCalls, isBlankContent } from './content';

export function dropEmptyMessages(req: ChatCompletionRequest): ChatCompletionRequest {
  const messages = req.messages.filter(
    (m) => m.role === 'tool' || m.role === 'function' || hasToolCalls(m) || !isBlankContent(m.content),
  );
  return messages.length === req.messages.length ? req : { ...req, messages };
}

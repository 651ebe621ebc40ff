/** `drop_empty_messages: true` — drop messages with empty or whitespace content; tool-call and tool messages stay. */
import type { ChatCompletionRequest } from '../common/openai.types';
import { hasToolCalls, isBlankContent } from './content';

export function dropEmptyMessages(req: ChatCompletionRequest): ChatCompletionRequest {
  const messages = req.messages.filter(
    (m) => m.role === 'tool' || hasToolCalls(m) || !isBlankContent(m.content),
  );
  return messages.length === req.messages.length ? req : { ...req, messages };
}

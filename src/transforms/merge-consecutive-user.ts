/** `merge_consecutive_user: keep_last | join` — consecutive user messages become one. */
import type { ChatCompletionRequest, ChatMessage } from '../common/openai.types';
import { isTextPart, toParts } from './content';

function join(a: ChatMessage, b: ChatMessage): ChatMessage {
  if (typeof a.content === 'string' && typeof b.content === 'string') {
    return { ...b, content: `${a.content}\n\n${b.content}` };
  }
  // Parts: text parts joined with a blank line, images kept in order.
  const parts = [...toParts(a.content), ...toParts(b.content)];
  const merged: typeof parts = [];
  for (const p of parts) {
    const last = merged[merged.length - 1];
    if (isTextPart(p) && last && isTextPart(last))
      merged[merged.length - 1] = { type: 'text', text: `${last.text}\n\n${p.text}` };
    else merged.push(p);
  }
  return { ...b, content: merged } as ChatMessage;
}

export function mergeConsecutiveUser(
  req: ChatCompletionRequest,
  mode: 'keep_last' | 'join',
): ChatCompletionRequest {
  const out: ChatMessage[] = [];
  let changed = false;
  for (const m of req.messages) {
    const prev = out[out.length - 1];
    if (prev && prev.role === 'user' && m.role === 'user') {
      out[out.length - 1] = mode === 'keep_last' ? m : join(prev, m);
      changed = true;
    } else {
      out.push(m);
    }
  }
  return changed ? { ...req, messages: out } : req;
}

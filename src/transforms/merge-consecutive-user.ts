/**
 * `merge_consecutive_user: keep_last | join` — a run of consecutive user messages becomes one:
 * either the last of the run, or all of them joined (text with a blank line between, images kept in
 * order). Blank text adds nothing to a join.
 */
import type { ChatCompletionRequest, ChatContentPart, ChatMessage } from '../common/openai.types';
import { isBlank, isTextPart, toParts } from './content';

const SEPARATOR = '\n\n';

function join(a: ChatMessage, b: ChatMessage): ChatMessage {
  if (typeof a.content === 'string' && typeof b.content === 'string') {
    const texts = [a.content, b.content].filter((t) => !isBlank(t));
    return { ...b, content: texts.length > 0 ? texts.join(SEPARATOR) : b.content };
  }
  const merged: ChatContentPart[] = [];
  for (const p of [...toParts(a.content), ...toParts(b.content)]) {
    if (isTextPart(p) && isBlank(p.text)) continue;
    const last = merged[merged.length - 1];
    if (isTextPart(p) && last && isTextPart(last)) {
      merged[merged.length - 1] = { ...last, text: `${last.text}${SEPARATOR}${p.text}` };
    } else {
      merged.push(p);
    }
  }
  return { ...b, content: merged } as ChatMessage;
}

export function mergeConsecutiveUser(
  req: ChatCompletionRequest,
  mode: 'keep_last' | 'join',
): ChatCompletionRequest {
  const out: ChatCompletionRequest['messages'] = [];
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

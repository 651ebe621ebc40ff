/** `strip_assistant_tags: [think, …]` — remove `<tag>…</tag>` blocks from assistant history. */
import type { ChatCompletionRequest, ChatMessage } from '../common/openai.types';
import { isTextPart } from './content';

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function stripTags(text: string, tags: readonly string[]): string {
  let out = text;
  for (const tag of tags) {
    const t = escape(tag);
    out = out.replace(new RegExp(`<${t}(?:\\s[^>]*)?>[\\s\\S]*?</${t}>`, 'g'), '');
    // an opening tag never closed: everything after it is the block
    out = out.replace(new RegExp(`<${t}(?:\\s[^>]*)?>[\\s\\S]*$`), '');
  }
  return out === text ? text : out.trim();
}

export function stripAssistantTags(
  req: ChatCompletionRequest,
  tags: readonly string[],
): ChatCompletionRequest {
  if (tags.length === 0) return req;
  let changed = false;
  const messages = req.messages.map((m): ChatMessage => {
    if (m.role !== 'assistant') return m;
    if (typeof m.content === 'string') {
      const c = stripTags(m.content, tags);
      if (c === m.content) return m;
      changed = true;
      return { ...m, content: c };
    }
    if (Array.isArray(m.content)) {
      let partChanged = false;
      const parts = m.content.map((p) => {
        if (!isTextPart(p)) return p;
        const text = stripTags(p.text, tags);
        if (text === p.text) return p;
        partChanged = true;
        return { ...p, text };
      });
      if (!partChanged) return m;
      changed = true;
      return { ...m, content: parts };
    }
    return m;
  });
  return changed ? { ...req, messages } : req;
}

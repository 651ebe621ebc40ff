/** Reading and rewriting message content, shared by the transform steps. */
import type { ChatContentPart, ChatMessage } from '../common/openai.types';

export type Content = ChatMessage['content'];

export function isTextPart(p: unknown): p is { type: 'text'; text: string } {
  return (
    !!p &&
    typeof p === 'object' &&
    (p as { type?: unknown }).type === 'text' &&
    typeof (p as { text?: unknown }).text === 'string'
  );
}

/** True when content is absent, an empty/whitespace string, or parts that are all blank text. */
export function isBlankContent(content: unknown): boolean {
  if (content === null || content === undefined) return true;
  if (typeof content === 'string') return content.trim() === '';
  if (Array.isArray(content)) return content.every((p) => isTextPart(p) && p.text.trim() === '');
  return false;
}

export function hasToolCalls(m: ChatMessage): boolean {
  return m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0;
}

/** Content as a list of parts (a string becomes one text part). */
export function toParts(content: unknown): ChatContentPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (Array.isArray(content)) return content as ChatContentPart[];
  return [];
}

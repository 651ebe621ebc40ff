/** Reading message content, shared by the transform steps. */
import type { ChatContentPart, ChatMessage } from '../common/openai.types';

export interface TextPart {
  type: 'text';
  text: string;
}

export function isTextPart(p: unknown): p is TextPart {
  if (!p || typeof p !== 'object') return false;
  const o = p as { type?: unknown; text?: unknown };
  return o.type === 'text' && typeof o.text === 'string';
}

export function isBlank(text: string): boolean {
  return text.trim() === '';
}

/**
 * True when content is absent, an empty or whitespace string, or a parts list whose text parts are
 * all blank and which has no other part (an image is content).
 */
export function isBlankContent(content: unknown): boolean {
  if (content === null || content === undefined) return true;
  if (typeof content === 'string') return isBlank(content);
  if (Array.isArray(content)) return content.every((p) => isTextPart(p) && isBlank(p.text));
  return false;
}

/** An assistant message that calls tools (or a function, in the legacy shape). */
export function hasToolCalls(m: ChatMessage): boolean {
  if (m.role !== 'assistant') return false;
  return (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) || !!m.function_call;
}

/** Content as a list of parts (a string becomes one text part, an empty string none). */
export function toParts(content: unknown): ChatContentPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (Array.isArray(content)) return content as ChatContentPart[];
  return [];
}

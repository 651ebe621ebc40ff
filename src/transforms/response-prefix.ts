/**
 * `response_prefix: "…"` — prepended to the first assistant content, streamed or not. Nothing is
 * added to a reply without content (for example one that only calls tools).
 */
import type { ChatCompletion, ChatCompletionChunk } from '../common/openai.types';

export function prefixCompletion(completion: ChatCompletion, prefix: string): ChatCompletion {
  if (prefix === '') return completion;
  let changed = false;
  const choices = completion.choices.map((c) => {
    const content = c.message.content;
    if (typeof content !== 'string' || content === '') return c;
    changed = true;
    return { ...c, message: { ...c.message, content: prefix + content } };
  });
  return changed ? { ...completion, choices } : completion;
}

/**
 * A function for one stream, called on every chunk in order: the first chunk that carries content
 * for a choice index gets the prefix. Role-only and tool-call-only chunks before it pass unchanged;
 * if no content ever arrives, nothing is added.
 */
export function createStreamPrefixer(prefix: string): (chunk: ChatCompletionChunk) => ChatCompletionChunk {
  const prefixed = new Set<number>();
  return (chunk) => {
    if (prefix === '' || !Array.isArray(chunk.choices) || chunk.choices.length === 0) return chunk;
    let changed = false;
    const choices = chunk.choices.map((c) => {
      const content: unknown = c.delta?.content;
      if (prefixed.has(c.index) || typeof content !== 'string' || content === '') return c;
      prefixed.add(c.index);
      changed = true;
      return { ...c, delta: { ...c.delta, content: prefix + content } };
    });
    return changed ? { ...chunk, choices } : chunk;
  };
}

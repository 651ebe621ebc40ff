/**
 * `response_prefix: "…"` — prepended to the first assistant content, streamed or not. Nothing is
 * added to a reply without content (for example one that only calls tools).
 */
import type { ChatCompletion, ChatCompletionChunk } from '../common/openai.types';

export function prefixCompletion(completion: ChatCompletion, prefix: string): ChatCompletion {
  if (!prefix) return completion;
  let changed = false;
  const choices = completion.choices.map((c) => {
    const content = c.message.content;
    if (typeof content !== 'string' || content === '') return c;
    changed = true;
    return { ...c, message: { ...c.message, content: prefix + content } };
  });
  return changed ? { ...completion, choices } : completion;
}

/** A per-stream function: the first chunk that carries non-empty content, per choice, gets the prefix. */
export function createStreamPrefixer(prefix: string): (chunk: ChatCompletionChunk) => ChatCompletionChunk {
  const done = new Set<number>();
  return (chunk) => {
    if (!prefix || !Array.isArray(chunk.choices) || chunk.choices.length === 0) return chunk;
    let changed = false;
    const choices = chunk.choices.map((c) => {
      const content = c.delta?.content;
      if (done.has(c.index) || typeof content !== 'string' || content === '') return c;
      done.add(c.index);
      changed = true;
      return { ...c, delta: { ...c.delta, content: prefix + content } };
    });
    return changed ? { ...chunk, choices } : chunk;
  };
}

/**
 * `strip_assistant_tags: [think, …]` — remove `<tag>…</tag>` blocks (several, across lines) from the
 * assistant messages of the history. An opening tag at the start that is never closed removes
 * everything after it (a reply cut off while thinking). The whitespace a removed block leaves behind
 * is collapsed, and the result trimmed.
 */
import type { ChatCompletionRequest, ChatMessage } from '../common/openai.types';
import { isTextPart } from './content';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What stands in for removed blocks: nothing at the edges, else the kind of gap they sat in. */
function gap(space: string, atEdge: boolean): string {
  if (atEdge) return '';
  const newlines = space.split('\n').length - 1;
  if (newlines >= 2) return '\n\n';
  if (newlines === 1) return '\n';
  return space === '' ? '' : ' ';
}

function isSpace(ch: string): boolean {
  return ch !== '' && ch.trim() === '';
}

/**
 * Closed `<tag …>…</tag>` blocks as [start, end) ranges, found by forward scans only, so the work
 * stays linear in the text's length whatever a client sends.
 */
function findBlocks(text: string, tag: string): Array<[number, number]> {
  const t = escapeRegExp(tag);
  const open = new RegExp(`<${t}(?:\\s[^<>]{0,200})?>`, 'gi');
  const close = new RegExp(`</${t}\\s{0,20}>`, 'gi');
  const blocks: Array<[number, number]> = [];
  for (;;) {
    const o = open.exec(text);
    if (!o) break;
    close.lastIndex = o.index + o[0].length;
    const c = close.exec(text);
    if (!c) break; // no later opening tag can be closed either
    blocks.push([o.index, close.lastIndex]);
    open.lastIndex = close.lastIndex;
  }
  return blocks;
}

function removeBlocks(text: string, tag: string): string {
  let out = '';
  let cursor = 0;
  const blocks = findBlocks(text, tag);
  for (let i = 0; i < blocks.length; i++) {
    const [start, firstEnd] = blocks[i] ?? [0, 0];
    let end = firstEnd;
    // a run of blocks separated by whitespace only goes at once
    let next = blocks[i + 1];
    while (next && text.slice(end, next[0]).trim() === '') {
      end = next[1];
      i++;
      next = blocks[i + 1];
    }
    let before = start;
    while (before > cursor && isSpace(text.charAt(before - 1))) before--;
    let after = end;
    while (after < text.length && isSpace(text.charAt(after))) after++;
    const atEdge = before === 0 || after === text.length;
    out += text.slice(cursor, before) + gap(text.slice(before, start) + text.slice(end, after), atEdge);
    cursor = after;
  }
  out += text.slice(cursor);
  // an opening tag at the start that is never closed: the rest is the block
  return new RegExp(`^\\s*<${escapeRegExp(tag)}(?:\\s[^<>]{0,200})?>`, 'i').test(out) ? '' : out;
}

export function stripTags(text: string, tags: readonly string[]): string {
  let out = text;
  for (const tag of tags) {
    if (tag === '') continue;
    out = removeBlocks(out, tag);
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
      const content = stripTags(m.content, tags);
      if (content === m.content) return m;
      changed = true;
      return { ...m, content };
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

/**
 * Automatic conversation threading: a request whose messages repeat an earlier request's
 * messages plus that request's assistant reply is the next turn of the same session. Each
 * trace stores the hash of (its messages + its reply); a new request looks up the hash of its
 * messages up to and including the last assistant message: one indexed look-up, no scan.
 */
import { createHash } from 'node:crypto';

interface MessageLike {
  role?: unknown;
  content?: unknown;
  tool_calls?: unknown;
}

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p: unknown) => {
        if (!p || typeof p !== 'object') return '';
        const o = p as { type?: unknown; text?: unknown; image_url?: { url?: unknown } };
        if (typeof o.text === 'string') return o.text;
        if (o.type === 'image_url' && typeof o.image_url?.url === 'string') return `[image:${o.image_url.url.length}]`;
        return '';
      })
      .join('\n');
  }
  return '';
}

function calls(toolCalls: unknown): string {
  if (!Array.isArray(toolCalls)) return '';
  return toolCalls
    .map((c: unknown) => {
      const f = (c as { function?: { name?: unknown; arguments?: unknown } } | null)?.function;
      const name = typeof f?.name === 'string' ? f.name : '';
      const args = typeof f?.arguments === 'string' ? f.arguments : '';
      return `${name}(${args})`;
    })
    .join(';');
}

function normalize(m: MessageLike): string {
  return `${String(m.role)}\u0001${text(m.content).trim()}\u0001${calls(m.tool_calls)}`;
}

export function hashMessages(messages: readonly MessageLike[]): string {
  const h = createHash('sha256');
  for (const m of messages) h.update(normalize(m)).update('\u0000');
  return h.digest('hex');
}

/** The hash a follow-up request will look up: this request's messages plus its reply. */
export function replyHash(messages: readonly MessageLike[], reply: MessageLike | null): string | null {
  if (!reply) return null;
  return hashMessages([...messages, reply]);
}

/** The hash to look up for a request: its messages up to its last assistant message, or null. */
export function parentHash(messages: readonly MessageLike[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'assistant') return hashMessages(messages.slice(0, i + 1));
  }
  return null;
}

/** A readable session name from the first user message. */
export function sessionName(messages: readonly MessageLike[]): string {
  const first = messages.find((m) => m.role === 'user');
  const t = text(first?.content).replace(/\s+/g, ' ').trim();
  if (!t) return 'Untitled conversation';
  return t.length > 60 ? `${t.slice(0, 59)}…` : t;
}

/** What one batch adds to each session it touches (upserted once per session). */
export interface SessionDelta {
  id: string;
  name: string;
  first: number;
  last: number;
  turns: number;
  models: Set<string>;
  tokens: number;
  /** The models already stored for the session (a JSON array) merged with this batch's. */
  mergedModels(stored: unknown): string[];
}

export class SessionDeltas {
  private readonly byId = new Map<string, SessionDelta>();

  add(
    d: { createdAt: number; model: string | null; usage: { total_tokens: number } | null; messages: unknown[] },
    session: string,
    turn: number,
  ): void {
    let s = this.byId.get(session);
    if (!s) {
      const models = new Set<string>();
      s = {
        id: session,
        name: sessionName(d.messages as MessageLike[]),
        first: d.createdAt,
        last: d.createdAt,
        turns: 0,
        models,
        tokens: 0,
        mergedModels: (stored: unknown): string[] => {
          let before: unknown = stored;
          if (typeof stored === 'string') {
            try {
              before = JSON.parse(stored) as unknown;
            } catch {
              before = null;
            }
          }
          return [...new Set([...(Array.isArray(before) ? before.map(String) : []), ...models])];
        },
      };
      this.byId.set(session, s);
    }
    s.first = Math.min(s.first, d.createdAt);
    s.last = Math.max(s.last, d.createdAt);
    s.turns = Math.max(s.turns, turn);
    if (d.model) s.models.add(d.model);
    s.tokens += d.usage?.total_tokens ?? 0;
  }

  list(): SessionDelta[] {
    return [...this.byId.values()];
  }
}

/** Reads OpenAI-format requests and responses loosely: traces hold whatever the caller sent. */

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type Part =
  { kind: 'text'; text: string } | { kind: 'image'; url: string } | { kind: 'other'; value: unknown };

export interface ChatMessage {
  role: string;
  name: string | null;
  parts: Part[];
  reasoning: string | null;
  toolCalls: ToolCall[];
  toolCallId: string | null;
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function partsOf(content: unknown): Part[] {
  if (typeof content === 'string') return content === '' ? [] : [{ kind: 'text', text: content }];
  if (!Array.isArray(content))
    return content === null || content === undefined ? [] : [{ kind: 'other', value: content }];
  return content.map((p): Part => {
    const o = obj(p);
    if (!o) return { kind: 'other', value: p };
    if (o.type === 'text' && typeof o.text === 'string') return { kind: 'text', text: o.text };
    if (o.type === 'image_url') {
      const iu = o.image_url;
      const url = typeof iu === 'string' ? iu : str(obj(iu)?.url);
      if (url) return { kind: 'image', url };
    }
    return { kind: 'other', value: p };
  });
}

function toolCallsOf(v: unknown): ToolCall[] {
  if (!Array.isArray(v)) return [];
  return v.map((c, i) => {
    const o = obj(c) ?? {};
    const fn = obj(o.function) ?? {};
    const args = fn.arguments;
    return {
      id: str(o.id) ?? `#${i}`,
      name: str(fn.name) ?? '(unnamed)',
      arguments: typeof args === 'string' ? args : JSON.stringify(args ?? ''),
    };
  });
}

export function messageOf(v: unknown): ChatMessage {
  const o = obj(v) ?? {};
  return {
    role: str(o.role) ?? 'unknown',
    name: str(o.name),
    parts: partsOf(o.content),
    reasoning: str(o.reasoning_content),
    toolCalls: toolCallsOf(o.tool_calls),
    toolCallId: str(o.tool_call_id),
  };
}

/** The request's messages (chat), or its prompt as one user message (legacy completions). */
export function requestMessages(request: unknown): ChatMessage[] {
  const o = obj(request);
  if (!o) return [];
  if (Array.isArray(o.messages)) return o.messages.map(messageOf);
  if (o.prompt !== undefined) return [{ ...messageOf({ role: 'user', content: o.prompt }) }];
  if (o.input !== undefined) return [{ ...messageOf({ role: 'user', content: o.input }) }];
  return [];
}

/** The assistant's reply in a response (first choice), or null. */
export function responseMessage(response: unknown): ChatMessage | null {
  const o = obj(response);
  if (!o || !Array.isArray(o.choices)) return null;
  const first = obj(o.choices[0]);
  if (!first) return null;
  if (obj(first.message)) return messageOf(first.message);
  if (typeof first.text === 'string') return messageOf({ role: 'assistant', content: first.text });
  return null;
}

export function finishReason(response: unknown): string | null {
  const o = obj(response);
  if (!o || !Array.isArray(o.choices)) return null;
  return str(obj(o.choices[0])?.finish_reason);
}

export function textOf(m: ChatMessage | null): string {
  if (!m) return '';
  return m.parts
    .map((p) => (p.kind === 'text' ? p.text : p.kind === 'image' ? '[image]' : JSON.stringify(p.value)))
    .join('\n');
}

export function requestModel(request: unknown): string {
  return str(obj(request)?.model) ?? '';
}

export function errorMessage(response: unknown): string | null {
  const e = obj(obj(response)?.error);
  return e ? (str(e.message) ?? JSON.stringify(e)) : null;
}

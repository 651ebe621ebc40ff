/**
 * Streams reassembled into one response (for traces and internal calls), and token usage in
 * the form the gateway records.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionMessage,
  ThinkingBlock,
  TraceUsage,
  UsageDetails,
} from './openai.types';

type Choice = ChatCompletion['choices'][number];
type ChunkChoice = ChatCompletionChunk['choices'][number];
type TokenLogprob = NonNullable<NonNullable<Choice['logprobs']>['content']>[number];

interface ToolCallAcc {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

interface ChoiceAcc {
  role: ChatCompletionMessage['role'];
  content: string;
  hasContent: boolean;
  reasoning: string;
  refusal: string | null;
  thinking: ThinkingBlock[];
  tools: Map<number, ToolCallAcc>;
  /** Deprecated `function_call` deltas (legacy `functions` parameter). */
  functionCall: { name: string; arguments: string } | null;
  logprobs: { content: TokenLogprob[] | null; refusal: TokenLogprob[] | null } | null;
  finish: Choice['finish_reason'] | null;
}

function newChoice(): ChoiceAcc {
  return {
    role: 'assistant',
    content: '',
    hasContent: false,
    reasoning: '',
    refusal: null,
    thinking: [],
    tools: new Map(),
    functionCall: null,
    logprobs: null,
    finish: null,
  };
}

function addDelta(acc: ChoiceAcc, choice: ChunkChoice): void {
  const d = choice.delta ?? {};
  if (d.role === 'assistant') acc.role = d.role;
  if (typeof d.content === 'string') {
    acc.content += d.content;
    acc.hasContent = true;
  }
  if (typeof d.reasoning_content === 'string') acc.reasoning += d.reasoning_content;
  if (typeof d.refusal === 'string') acc.refusal = (acc.refusal ?? '') + d.refusal;
  if (Array.isArray(d.thinking_blocks)) acc.thinking.push(...d.thinking_blocks);
  for (const tc of Array.isArray(d.tool_calls) ? d.tool_calls : []) {
    const ti = typeof tc.index === 'number' ? tc.index : 0;
    let t = acc.tools.get(ti);
    if (!t) {
      t = { id: '', type: 'function', function: { name: '', arguments: '' } };
      acc.tools.set(ti, t);
    }
    if (tc.id) t.id = tc.id;
    if (tc.function?.name) t.function.name = tc.function.name;
    if (typeof tc.function?.arguments === 'string') t.function.arguments += tc.function.arguments;
  }
  if (d.function_call) {
    acc.functionCall ??= { name: '', arguments: '' };
    if (d.function_call.name) acc.functionCall.name = d.function_call.name;
    if (typeof d.function_call.arguments === 'string')
      acc.functionCall.arguments += d.function_call.arguments;
  }
  const lp = choice.logprobs;
  if (lp) {
    acc.logprobs ??= { content: null, refusal: null };
    if (Array.isArray(lp.content)) acc.logprobs.content = [...(acc.logprobs.content ?? []), ...lp.content];
    if (Array.isArray(lp.refusal)) acc.logprobs.refusal = [...(acc.logprobs.refusal ?? []), ...lp.refusal];
  }
  if (choice.finish_reason) acc.finish = choice.finish_reason;
}

function toChoice(index: number, acc: ChoiceAcc): Choice {
  const message: ChatCompletionMessage = {
    role: acc.role,
    content: acc.hasContent || (acc.tools.size === 0 && !acc.functionCall) ? acc.content : null,
    refusal: acc.refusal,
  };
  if (acc.tools.size > 0) {
    message.tool_calls = [...acc.tools.entries()].sort(([x], [y]) => x - y).map(([, t]) => t);
  }
  if (acc.functionCall) message.function_call = acc.functionCall;
  if (acc.reasoning) message.reasoning_content = acc.reasoning;
  if (acc.thinking.length > 0) message.thinking_blocks = acc.thinking;
  return { index, message, finish_reason: acc.finish as Choice['finish_reason'], logprobs: acc.logprobs };
}

/**
 * One chat.completion from the chunks of a stream: per choice (by `index`) the content,
 * reasoning and refusal text joined, thinking blocks concatenated, tool calls merged by their
 * `index` (id, type and name taken when present, `arguments` fragments joined in order) and the
 * last finish reason; id, model, created and system_fingerprint from the chunks; the usage of
 * the chunk that carries one. Tolerates chunks that are not objects or lack `choices`.
 */
export function reassembleChatStream(chunks: readonly ChatCompletionChunk[]): ChatCompletion {
  const choices = new Map<number, ChoiceAcc>();
  let id = '';
  let model = '';
  let created = 0;
  let fingerprint: string | undefined;
  let serviceTier: ChatCompletion['service_tier'] | undefined;
  let usage: UsageDetails | undefined;
  for (const chunk of chunks) {
    if (!chunk || typeof chunk !== 'object') continue;
    if (!id && typeof chunk.id === 'string') id = chunk.id;
    if (!model && typeof chunk.model === 'string') model = chunk.model;
    if (!created && typeof chunk.created === 'number') created = chunk.created;
    if (typeof chunk.system_fingerprint === 'string') fingerprint = chunk.system_fingerprint;
    if (typeof chunk.service_tier === 'string') serviceTier = chunk.service_tier;
    if (chunk.usage && typeof chunk.usage === 'object') usage = chunk.usage;
    for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) {
      if (!choice || typeof choice !== 'object') continue;
      const index = typeof choice.index === 'number' ? choice.index : 0;
      let acc = choices.get(index);
      if (!acc) {
        acc = newChoice();
        choices.set(index, acc);
      }
      addDelta(acc, choice);
    }
  }
  const out: ChatCompletion = {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [...choices.entries()].sort(([a], [b]) => a - b).map(([index, acc]) => toChoice(index, acc)),
  };
  if (fingerprint !== undefined) out.system_fingerprint = fingerprint;
  if (serviceTier !== undefined) out.service_tier = serviceTier;
  if (usage) out.usage = usage;
  return out;
}

/**
 * The JSON chunks in the raw SSE bytes of an OpenAI stream. Tolerant: a truncated last event,
 * data that is not JSON and `data: [DONE]` are skipped; LF, CRLF and CR line ends are accepted.
 */
export function chatChunksFromSse(buffers: readonly Buffer[]): ChatCompletionChunk[] {
  // One buffer (a trace's stream, a view of shared memory) is decoded where it is, not copied.
  let text = (buffers.length === 1 ? (buffers[0] as Buffer) : Buffer.concat(buffers)).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: ChatCompletionChunk[] = [];
  let data: string[] = [];
  const dispatch = (): void => {
    if (data.length === 0) return;
    const payload = data.join('\n').trim();
    data = [];
    if (payload === '' || payload === '[DONE]') return;
    try {
      const parsed = JSON.parse(payload) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        out.push(parsed as ChatCompletionChunk);
    } catch {
      // not JSON (or cut off): skipped
    }
  };
  // Split on LF alone unless there is a CR: the common case, several times cheaper than the regex.
  for (const line of text.includes('\r') ? text.split(/\r\n|\r|\n/) : text.split('\n')) {
    if (line === '') dispatch();
    else if (line === 'data') data.push('');
    else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
  }
  dispatch();
  return out;
}

export interface CompletionChunkLike {
  id?: string;
  model?: string;
  created?: number;
  system_fingerprint?: string | null;
  choices?: Array<{ index?: number; text?: string; finish_reason?: string | null }>;
  usage?: UsageDetails | null;
}

export interface ReassembledCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: Array<{ index: number; text: string; finish_reason: string | null; logprobs: null }>;
  usage?: UsageDetails;
}

/** Legacy /v1/completions stream → one text_completion (text joined per choice). */
export function reassembleCompletionStream(chunks: readonly CompletionChunkLike[]): ReassembledCompletion {
  const texts = new Map<number, { text: string; finish: string | null }>();
  let id = '';
  let model = '';
  let created = 0;
  let fingerprint: string | undefined;
  let usage: UsageDetails | undefined;
  for (const c of chunks) {
    if (!c || typeof c !== 'object') continue;
    if (!id && typeof c.id === 'string') id = c.id;
    if (!model && typeof c.model === 'string') model = c.model;
    if (!created && typeof c.created === 'number') created = c.created;
    if (typeof c.system_fingerprint === 'string') fingerprint = c.system_fingerprint;
    if (c.usage && typeof c.usage === 'object') usage = c.usage;
    for (const ch of Array.isArray(c.choices) ? c.choices : []) {
      if (!ch || typeof ch !== 'object') continue;
      const i = typeof ch.index === 'number' ? ch.index : 0;
      const acc = texts.get(i) ?? { text: '', finish: null };
      if (typeof ch.text === 'string') acc.text += ch.text;
      if (ch.finish_reason) acc.finish = ch.finish_reason;
      texts.set(i, acc);
    }
  }
  const out: ReassembledCompletion = {
    id,
    object: 'text_completion',
    created,
    model,
    choices: [...texts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, t]) => ({ index, text: t.text, finish_reason: t.finish, logprobs: null })),
  };
  if (fingerprint !== undefined) out.system_fingerprint = fingerprint;
  if (usage) out.usage = usage;
  return out;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}

/** Provider-reported usage in the recorded form; null when there is none. */
export function traceUsageFrom(usage: UsageDetails | null | undefined): TraceUsage | null {
  if (!usage || typeof usage !== 'object') return null;
  const prompt = num(usage.prompt_tokens);
  const completion = num(usage.completion_tokens);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: num(usage.total_tokens) || prompt + completion,
    cached_tokens: num(usage.prompt_tokens_details?.cached_tokens),
    reasoning_tokens: num(usage.completion_tokens_details?.reasoning_tokens),
    source: 'provider',
  };
}

/** About four characters a token (counted in code points); at least one for non-empty text. */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  let chars = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // The second half of a surrogate pair is not a character of its own.
    if (c < 0xdc00 || c > 0xdfff) chars++;
  }
  return Math.max(1, Math.ceil(chars / 4));
}

/** The text of a message content, a prompt or an input: strings and text parts. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).filter(Boolean).join(' ');
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.text === 'string') return o.text;
    if ('content' in o) return textOf(o.content);
  }
  return '';
}

function jsonText(value: unknown): string {
  return value === undefined || value === null ? '' : JSON.stringify(value);
}

/** The prompt text of a request: messages (with tool calls), tool definitions, prompt or input. */
function promptText(request: unknown): string {
  if (!request || typeof request !== 'object') return textOf(request);
  const r = request as Record<string, unknown>;
  const parts: string[] = [];
  if (Array.isArray(r.messages)) {
    for (const m of r.messages as unknown[]) {
      if (!m || typeof m !== 'object') continue;
      const msg = m as Record<string, unknown>;
      parts.push(textOf(msg.content));
      if (Array.isArray(msg.tool_calls)) parts.push(jsonText(msg.tool_calls));
    }
  }
  if (Array.isArray(r.tools)) parts.push(jsonText(r.tools));
  if (r.prompt !== undefined) parts.push(textOf(r.prompt));
  if (r.input !== undefined) parts.push(textOf(r.input));
  return parts.filter(Boolean).join('\n');
}

/** Usage estimated from the request's text and the output text, when an upstream reports none. */
export function estimateUsage(request: unknown, output: string): TraceUsage {
  const prompt = estimateTokens(promptText(request));
  const completion = estimateTokens(output);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    cached_tokens: 0,
    reasoning_tokens: 0,
    source: 'estimated',
  };
}

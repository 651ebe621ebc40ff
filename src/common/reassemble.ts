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

interface ToolCallAcc {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

interface ChoiceAcc {
  content: string;
  hasContent: boolean;
  reasoning: string;
  refusal: string | null;
  thinking: ThinkingBlock[];
  tools: Map<number, ToolCallAcc>;
  finish: string | null;
}

function newChoice(): ChoiceAcc {
  return {
    content: '',
    hasContent: false,
    reasoning: '',
    refusal: null,
    thinking: [],
    tools: new Map(),
    finish: null,
  };
}

export function reassembleChatStream(chunks: readonly ChatCompletionChunk[]): ChatCompletion {
  const choices = new Map<number, ChoiceAcc>();
  let id = '';
  let model = '';
  let created = 0;
  let fingerprint: string | null | undefined;
  let usage: UsageDetails | undefined;
  for (const chunk of chunks) {
    if (!chunk || typeof chunk !== 'object') continue;
    if (!id && chunk.id) id = chunk.id;
    if (!model && chunk.model) model = chunk.model;
    if (!created && chunk.created) created = chunk.created;
    if (chunk.system_fingerprint) fingerprint = chunk.system_fingerprint;
    if (chunk.usage) usage = chunk.usage;
    for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) {
      const index = typeof choice.index === 'number' ? choice.index : 0;
      let acc = choices.get(index);
      if (!acc) {
        acc = newChoice();
        choices.set(index, acc);
      }
      const d = choice.delta ?? {};
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
        if (tc.function?.name) t.function.name += t.function.name ? '' : tc.function.name;
        if (typeof tc.function?.arguments === 'string') t.function.arguments += tc.function.arguments;
      }
      if (choice.finish_reason) acc.finish = choice.finish_reason;
    }
  }
  const out: ChatCompletion = {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [...choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, acc]) => {
        const message: ChatCompletionMessage = {
          role: 'assistant',
          content: acc.hasContent || acc.tools.size === 0 ? acc.content : null,
          refusal: acc.refusal,
        };
        if (acc.tools.size > 0) {
          message.tool_calls = [...acc.tools.entries()].sort(([x], [y]) => x - y).map(([, t]) => t);
        }
        if (acc.reasoning) message.reasoning_content = acc.reasoning;
        if (acc.thinking.length > 0) message.thinking_blocks = acc.thinking;
        return {
          index,
          message,
          finish_reason: (acc.finish ?? null) as ChatCompletion['choices'][number]['finish_reason'],
          logprobs: null,
        };
      }),
  };
  if (typeof fingerprint === 'string') out.system_fingerprint = fingerprint;
  if (usage) out.usage = usage;
  return out;
}

/** Parses raw SSE bytes of an OpenAI stream into chunks; tolerant of a truncated end and junk lines. */
export function chatChunksFromSse(buffers: readonly Buffer[]): ChatCompletionChunk[] {
  const text = Buffer.concat(buffers).toString('utf8');
  const out: ChatCompletionChunk[] = [];
  let data: string[] = [];
  const flush = (): void => {
    if (data.length === 0) return;
    const payload = data.join('\n').trim();
    data = [];
    if (payload === '' || payload === '[DONE]') return;
    try {
      const parsed = JSON.parse(payload) as unknown;
      if (parsed && typeof parsed === 'object') out.push(parsed as ChatCompletionChunk);
    } catch {
      // not JSON: skipped
    }
  };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') flush();
    else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
  }
  flush();
  return out;
}

export interface CompletionChunkLike {
  id?: string;
  model?: string;
  created?: number;
  choices?: Array<{ index?: number; text?: string; finish_reason?: string | null }>;
  usage?: UsageDetails | null;
}

/** Legacy /v1/completions stream → one text_completion. */
export function reassembleCompletionStream(chunks: readonly CompletionChunkLike[]): {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: Array<{ index: number; text: string; finish_reason: string | null; logprobs: null }>;
  usage?: UsageDetails;
} {
  const texts = new Map<number, { text: string; finish: string | null }>();
  let id = '';
  let model = '';
  let created = 0;
  let usage: UsageDetails | undefined;
  for (const c of chunks) {
    if (!id && c.id) id = c.id;
    if (!model && c.model) model = c.model;
    if (!created && c.created) created = c.created;
    if (c.usage) usage = c.usage;
    for (const ch of c.choices ?? []) {
      const i = ch.index ?? 0;
      const acc = texts.get(i) ?? { text: '', finish: null };
      acc.text += ch.text ?? '';
      if (ch.finish_reason) acc.finish = ch.finish_reason;
      texts.set(i, acc);
    }
  }
  return {
    id,
    object: 'text_completion',
    created,
    model,
    choices: [...texts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, t]) => ({ index, text: t.text, finish_reason: t.finish, logprobs: null })),
    ...(usage ? { usage } : {}),
  };
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
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

/** About four characters a token; at least one for non-empty text. */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  return Math.max(1, Math.ceil(text.length / 4));
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).join(' ');
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.text === 'string') return o.text;
    if ('content' in o) return textOf(o.content);
    if (typeof o.input === 'string' || Array.isArray(o.input)) return textOf(o.input);
    if (typeof o.prompt === 'string' || Array.isArray(o.prompt)) return textOf(o.prompt);
    if (Array.isArray(o.messages)) return textOf(o.messages);
  }
  return '';
}

/** Usage estimated from the request's text and the output text, when an upstream reports none. */
export function estimateUsage(request: unknown, output: string): TraceUsage {
  const prompt = estimateTokens(textOf(request));
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

/**
 * `mock`: a deterministic provider for first runs, demos and load tests. It replies with the
 * last user message's text, counts usage, honours `stream`, and calls the first tool when tools
 * are offered and the last message is the user's. Option `delay_ms` waits before answering.
 */
import { GatewayError } from '../../common/errors';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatMessage,
  Completion,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  Model,
  UsageDetails,
} from '../../common/openai.types';
import type {
  AdapterDefinition,
  CallContext,
  ProviderAdapter,
  ProviderCapabilities,
  ProviderSettings,
} from '../adapter.interface';

const CREATED = 1_700_000_000;

function messageText(m: ChatMessage | undefined): string {
  if (!m) return '';
  const c = m.content;
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  return c
    .map((p) => (p && typeof p === 'object' && 'text' in p && typeof p.text === 'string' ? p.text : ''))
    .filter((t) => t.length > 0)
    .join('\n');
}

export function countTokens(text: string): number {
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  return words;
}

function promptTokens(req: ChatCompletionRequest): number {
  let n = 0;
  for (const m of req.messages) n += countTokens(messageText(m)) + 3;
  return n;
}

function usage(prompt: number, completion: number): UsageDetails {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

interface MockReply {
  content: string | null;
  toolCall: { id: string; name: string; arguments: string } | null;
}

function replyFor(req: ChatCompletionRequest, requestId: string): MockReply {
  const last = req.messages[req.messages.length - 1];
  const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
  const tools = Array.isArray(req.tools) ? req.tools : [];
  const first = tools[0];
  if (first && first.type === 'function' && last?.role === 'user' && req.tool_choice !== 'none') {
    return {
      content: null,
      toolCall: {
        id: `call_${requestId.replace(/[^A-Za-z0-9]/g, '').slice(-12)}`,
        name: first.function.name,
        arguments: JSON.stringify({ input: messageText(lastUser) }),
      },
    };
  }
  if (last?.role === 'tool') return { content: `Tool result: ${messageText(last)}`, toolCall: null };
  return { content: messageText(lastUser), toolCall: null };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      },
      { once: true },
    );
  });
}

export class MockAdapter implements ProviderAdapter {
  readonly type = 'mock';
  readonly capabilities: ProviderCapabilities = {
    chat: true,
    streaming: 'native',
    completions: true,
    embeddings: true,
    tools: true,
    vision: true,
    listModels: true,
    passthrough: false,
    maxStop: 4,
  };
  private readonly delayMs: number;

  constructor(private readonly settings: ProviderSettings) {
    const d = settings.options.delay_ms;
    this.delayMs = typeof d === 'number' && d > 0 ? d : 0;
    const vision = settings.options.vision;
    if (vision === false) this.capabilities = { ...this.capabilities, vision: false };
  }

  private validate(req: ChatCompletionRequest): void {
    if (!Array.isArray(req.messages) || req.messages.length === 0) {
      throw GatewayError.badRequest('messages must be a non-empty array', 'messages');
    }
  }

  async chat(req: ChatCompletionRequest, ctx: CallContext): Promise<ChatCompletion> {
    this.validate(req);
    ctx.onUpstreamRequest?.(req);
    if (this.delayMs > 0) await sleep(this.delayMs, ctx.signal);
    const r = replyFor(req, ctx.requestId);
    const completion = r.content
      ? countTokens(r.content)
      : r.toolCall
        ? countTokens(r.toolCall.arguments)
        : 0;
    return {
      id: `chatcmpl-${ctx.requestId}`,
      object: 'chat.completion',
      created: CREATED,
      model: req.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: r.content,
            refusal: null,
            ...(r.toolCall
              ? {
                  tool_calls: [
                    {
                      id: r.toolCall.id,
                      type: 'function' as const,
                      function: { name: r.toolCall.name, arguments: r.toolCall.arguments },
                    },
                  ],
                }
              : {}),
          },
          finish_reason: r.toolCall ? 'tool_calls' : 'stop',
          logprobs: null,
        },
      ],
      usage: usage(promptTokens(req), completion),
    };
  }

  async streamChat(
    req: ChatCompletionRequest,
    ctx: CallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    this.validate(req);
    ctx.onUpstreamRequest?.(req);
    if (this.delayMs > 0) await sleep(this.delayMs, ctx.signal);
    const r = replyFor(req, ctx.requestId);
    const base = {
      id: `chatcmpl-${ctx.requestId}`,
      object: 'chat.completion.chunk' as const,
      created: CREATED,
      model: req.model,
    };
    const prompt = promptTokens(req);
    return (async function* (): AsyncGenerator<ChatCompletionChunk> {
      yield {
        ...base,
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      };
      let completion = 0;
      if (r.toolCall) {
        const { id, name, arguments: args } = r.toolCall;
        yield {
          ...base,
          choices: [
            {
              index: 0,
              delta: { tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }] },
              finish_reason: null,
            },
          ],
        };
        const half = Math.ceil(args.length / 2);
        for (const part of [args.slice(0, half), args.slice(half)]) {
          if (part)
            yield {
              ...base,
              choices: [
                {
                  index: 0,
                  delta: { tool_calls: [{ index: 0, function: { arguments: part } }] },
                  finish_reason: null,
                },
              ],
            };
        }
        completion = countTokens(args);
      } else {
        const pieces = (r.content ?? '').match(/\S+\s*|\s+/g) ?? [];
        for (const piece of pieces)
          yield { ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] };
        completion = countTokens(r.content ?? '');
      }
      yield {
        ...base,
        choices: [{ index: 0, delta: {}, finish_reason: r.toolCall ? 'tool_calls' : 'stop' }],
      };
      yield { ...base, choices: [], usage: usage(prompt, completion) };
    })();
  }

  async completions(req: CompletionRequest, ctx: CallContext): Promise<Completion> {
    ctx.onUpstreamRequest?.(req);
    if (this.delayMs > 0) await sleep(this.delayMs, ctx.signal);
    const prompt = Array.isArray(req.prompt)
      ? req.prompt.join('\n')
      : typeof req.prompt === 'string'
        ? req.prompt
        : '';
    const n = countTokens(prompt);
    return {
      id: `cmpl-${ctx.requestId}`,
      object: 'text_completion',
      created: CREATED,
      model: req.model,
      choices: [{ index: 0, text: prompt, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: n, completion_tokens: n, total_tokens: 2 * n },
    };
  }

  async embeddings(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
    ctx.onUpstreamRequest?.(req);
    const inputs = Array.isArray(req.input) ? req.input : [req.input];
    const dims =
      typeof req.dimensions === 'number' && req.dimensions > 0 ? Math.min(req.dimensions, 4096) : 8;
    let tokens = 0;
    const data = inputs.map((input, index) => {
      const text = typeof input === 'string' ? input : JSON.stringify(input);
      tokens += countTokens(text);
      const vector = vectorFor(text, dims);
      // The official SDKs ask for base64 (little-endian float32) and decode it themselves.
      const embedding =
        req.encoding_format === 'base64'
          ? (Buffer.from(new Float32Array(vector).buffer).toString('base64') as unknown as number[])
          : vector;
      return { object: 'embedding' as const, index, embedding };
    });
    return { object: 'list', data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
  }

  async listModels(): Promise<Model[]> {
    const models = this.settings.options.models;
    const ids = Array.isArray(models) ? models.filter((m): m is string => typeof m === 'string') : ['mock'];
    return ids.map((id) => ({ id, object: 'model' as const, created: CREATED, owned_by: this.settings.id }));
  }
}

/** A deterministic unit vector from the text (FNV-1a seeded). */
function vectorFor(text: string, dims: number): number[] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  const v: number[] = [];
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
    const x = (h / 0xffffffff) * 2 - 1;
    v.push(x);
    norm += x * x;
  }
  const n = Math.sqrt(norm) || 1;
  return v.map((x) => x / n);
}

export const mockAdapter: AdapterDefinition = {
  type: 'mock',
  create: (settings) => new MockAdapter(settings),
};

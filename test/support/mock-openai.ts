/**
 * A faithful OpenAI-compatible upstream for tests (node:http), written from OpenAI's public API
 * reference: chat completions (stream and not, tools, n, include_usage, obfuscation), legacy
 * completions, embeddings (float and base64), models, and errors in OpenAI's shape.
 *
 * Answers: chat echoes the last user message (`Echo: <text>`); with `tools` and a user message
 * last it calls the first tool (or the one `tool_choice` names); after a `tool` message it
 * answers with the tool's result; `stop` ends the answer before a stop sequence and
 * `max_tokens` / `max_completion_tokens` cut it (`finish_reason: length`). Tests steer single requests with `enqueue` (next requests, any
 * endpoint) or every request for a model with `setModelBehavior` / the `byModel` option.
 *
 * Usage follows the reference's accounting: prompts of 1024 tokens or more are cached
 * automatically, and a later prompt sharing a cached prefix reports it in
 * `prompt_tokens_details.cached_tokens` (in steps of 128 tokens); reasoning models (`o1`, `o3`,
 * `o4-mini`, `gpt-5*`) report the hidden reasoning in `completion_tokens_details.reasoning_tokens`,
 * included in `completion_tokens`. A token is about four characters here.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { MockUpstream, RecordedRequest } from './mock-upstream';

/** What the mock does with one request; fields combine (e.g. a delay, then an error). */
export interface Behavior {
  /** Wait this long before the first byte (headers included). */
  delayMs?: number;
  /** Answer with this status and an OpenAI error body (`body` replaces the default one). */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Stream: wait this long between chunks. */
  chunkDelayMs?: number;
  /** Destroy the socket after this many stream chunks (non-stream: after half the body, or at once for 0). */
  resetAfterChunks?: number;
  /** Answer with this content instead of the echo (and no tool call). */
  reply?: string;
  /** Report no usage at all, as some OpenAI-compatible servers do (stream_options ignored). */
  omitUsage?: boolean;
}

export interface MockOpenAIOptions {
  /** When set, every request needs `Authorization: Bearer <apiKey>` (else 401 invalid_api_key). */
  apiKey?: string;
  /** Behaviour for every request naming this model (after queued behaviours are used up). */
  byModel?: Record<string, Behavior>;
  /** Ids listed by GET /v1/models; GET /v1/models/{id} of any other id is a 404. */
  models?: string[];
  /** Embedding length when the request gives no `dimensions`. */
  embeddingDimensions?: number;
}

export interface MockOpenAI extends MockUpstream {
  /** Behaviours for the next requests, one each, in order. */
  enqueue(...behaviors: Behavior[]): void;
  /** Behaviour for every request naming `model`; null removes it. */
  setModelBehavior(model: string, behavior: Behavior | null): void;
  /** Responses whose client went away before the end. */
  readonly closedEarly: number;
  /** Requests received (every endpoint). */
  readonly count: number;
}

interface ToolDef {
  type?: string;
  function?: { name?: string };
}

interface ChatMessage {
  role?: string;
  content?: unknown;
}

interface ChatBody {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown; include_obfuscation?: unknown } | null;
  tools?: ToolDef[];
  tool_choice?: unknown;
  n?: unknown;
  stop?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
}

interface CompletionBody {
  model?: unknown;
  prompt?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
}

interface EmbeddingBody {
  model?: unknown;
  input?: unknown;
  encoding_format?: unknown;
  dimensions?: unknown;
}

interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

interface Answer {
  content: string | null;
  toolCall: ToolCall | null;
  /** Set when `max_tokens` cut the answer. */
  cut?: boolean;
}

/** `stop` ends the text before the first stop sequence; `max_(completion_)tokens` cuts it (→ length). */
function applyLimits(a: Answer, body: ChatBody): Answer {
  if (a.content === null) return a;
  let text = a.content;
  const stops = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop : [];
  for (const seq of stops) {
    if (typeof seq !== 'string' || seq.length === 0) continue;
    const at = text.indexOf(seq);
    if (at >= 0) text = text.slice(0, at);
  }
  const limit = body.max_completion_tokens ?? body.max_tokens;
  if (typeof limit === 'number' && limit > 0 && tokens(text) > limit) {
    return { ...a, content: [...text].slice(0, limit * 4).join(''), cut: true };
  }
  return { ...a, content: text };
}

interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const DEFAULT_MODELS = ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'];
const MODEL_CREATED = 1_715_367_049;
const FINGERPRINT = 'fp_mock0001';

function errorBody(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

/** OpenAI's error body for a status, as its API reference and live answers show them. */
function defaultError(status: number, model: string): OpenAIErrorBody {
  switch (status) {
    case 400:
      return errorBody("Invalid value for 'messages'.", 'invalid_request_error', 'invalid_value', 'messages');
    case 401:
      return errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    case 403:
      return errorBody('You are not allowed to sample from this model.', 'invalid_request_error', null);
    case 404:
      return errorBody(
        `The model \`${model}\` does not exist or you do not have access to it.`,
        'invalid_request_error',
        'model_not_found',
      );
    case 408:
      return errorBody('Request timed out.', 'timeout', 'timeout');
    case 429:
      return errorBody(
        `Rate limit reached for ${model} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.`,
        'requests',
        'rate_limit_exceeded',
      );
    case 500:
      return errorBody(
        'The server had an error while processing your request. Sorry about that!',
        'server_error',
        null,
      );
    case 503:
      return errorBody('The engine is currently overloaded, please try again later.', 'server_error', null);
    default:
      return errorBody(
        `Upstream error ${status}.`,
        status >= 500 ? 'server_error' : 'invalid_request_error',
        null,
      );
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p: unknown) => {
      const part = p as { type?: unknown; text?: unknown } | null;
      return part && part.type === 'text' && typeof part.text === 'string' ? part.text : '';
    })
    .filter(Boolean)
    .join(' ');
}

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Small pieces as a model streams them: a word with its trailing space, long words cut. */
function pieces(text: string, size = 6): string[] {
  const out: string[] = [];
  for (const word of text.match(/\S+\s*|\s+/gu) ?? []) {
    const chars = [...word];
    for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  }
  return out;
}

/** Random-looking padding of varying length, like OpenAI's stream obfuscation. */
function obfuscation(seed: number): string {
  return createHash('sha256')
    .update(String(seed))
    .digest('base64url')
    .slice(0, 1 + (seed % 12));
}

/** A unit-length vector that depends only on the text and the length asked for. */
function embeddingOf(text: string, dims: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dims; block++) {
    const digest = createHash('sha256').update(`${block}\u0000${text}`).digest();
    for (let i = 0; i + 1 < digest.length && values.length < dims; i += 2) {
      values.push(digest.readUInt16LE(i) / 32768 - 1);
    }
  }
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0)) || 1;
  return values.map((v) => v / norm);
}

/** Smallest cacheable prompt, and the step cache hits come in (tokens, as the reference gives them). */
const CACHE_MIN_TOKENS = 1024;
const CACHE_STEP_TOKENS = 128;

/** OpenAI's automatic prompt caching: prefixes of cacheable prompts, by hash. */
class PromptCache {
  private readonly seen = new Set<string>();

  /** The cached tokens of this prompt's longest known prefix; the prompt's prefixes are cached. */
  lookup(promptText: string): number {
    const total = tokens(promptText);
    let hit = 0;
    for (let t = CACHE_MIN_TOKENS; t <= total; t += CACHE_STEP_TOKENS) {
      const key = createHash('sha256')
        .update(promptText.slice(0, t * 4))
        .digest('base64');
      if (this.seen.has(key)) hit = t;
      else {
        if (this.seen.size > 50_000) this.seen.clear();
        this.seen.add(key);
      }
    }
    return hit;
  }
}

function isReasoningModel(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model);
}

function usageOf(
  promptText: string,
  completionText: string,
  withDetails: boolean,
  extra: { cached?: number; reasoning?: number } = {},
): Record<string, unknown> {
  const prompt = tokens(promptText);
  const reasoning = extra.reasoning ?? 0;
  const completion = (completionText ? tokens(completionText) : 0) + reasoning;
  const usage: Record<string, unknown> = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (withDetails) {
    usage.prompt_tokens_details = { cached_tokens: extra.cached ?? 0, audio_tokens: 0 };
    usage.completion_tokens_details = {
      reasoning_tokens: reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    };
  }
  return usage;
}

export async function startMockOpenAI(opts: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  const requests: RecordedRequest[] = [];
  const queue: Behavior[] = [];
  const byModel = new Map<string, Behavior>(Object.entries(opts.byModel ?? {}));
  const models = opts.models ?? DEFAULT_MODELS;
  const sockets = new Set<Socket>();
  const state = { closedEarly: 0, count: 0, seq: 0 };
  const promptCache = new PromptCache();
  const next = (): number => ++state.seq;

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      'x-request-id': `req_${next()}`,
      'openai-processing-ms': '1',
      ...headers,
    });
    res.end(text);
  };

  const sendError = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => send(res, status, body, { ...(status === 429 ? { 'retry-after': '1' } : {}), ...headers });

  /** Writes a JSON answer, or only half of it before a reset when the behaviour asks for one. */
  const answer = async (res: ServerResponse, body: unknown, b: Behavior): Promise<void> => {
    if (b.resetAfterChunks === undefined) return send(res, 200, body);
    if (b.resetAfterChunks > 0) {
      const text = JSON.stringify(body);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(text)),
      });
      await new Promise<void>((r) => res.write(text.slice(0, text.length >> 1), () => r()));
    }
    res.socket?.destroy();
  };

  const writeStream = async (res: ServerResponse, events: string[], b: Behavior): Promise<void> => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': `req_${next()}`,
      'openai-processing-ms': '1',
    });
    let written = 0;
    for (const e of events) {
      if (res.destroyed) return;
      if (b.resetAfterChunks !== undefined && written >= b.resetAfterChunks) {
        res.socket?.destroy();
        return;
      }
      // Wait until the bytes are handed to the socket, so a reset after them cannot drop them.
      await new Promise<void>((r) => res.write(e, () => r()));
      written++;
      if (b.chunkDelayMs) await sleep(b.chunkDelayMs);
    }
    if (b.resetAfterChunks !== undefined && written >= b.resetAfterChunks) {
      res.socket?.destroy();
      return;
    }
    res.end();
  };

  const chatAnswer = (body: ChatBody, messages: ChatMessage[], fixed: string | undefined): Answer => {
    if (fixed !== undefined) return { content: fixed, toolCall: null };
    const last = messages[messages.length - 1];
    const tools = Array.isArray(body.tools) ? body.tools : [];
    const choice = body.tool_choice as { function?: { name?: unknown } } | string | undefined;
    const named = typeof choice === 'object' && choice ? choice.function?.name : undefined;
    const tool = tools.find((t) => t.function?.name === named) ?? tools[0];
    if (tool?.function?.name && last?.role === 'user' && choice !== 'none') {
      const text = textOf(last.content);
      const city = /\bin ([A-Z][\p{L}]+)/u.exec(text)?.[1] ?? 'Paris';
      return {
        content: null,
        toolCall: {
          id: `call_${createHash('sha256').update(`${next()}`).digest('hex').slice(0, 24)}`,
          name: tool.function.name,
          arguments: JSON.stringify({ city, query: text }),
        },
      };
    }
    if (last?.role === 'tool') return { content: `The tool said: ${textOf(last.content)}`, toolCall: null };
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    return { content: `Echo: ${textOf(lastUser?.content)}`, toolCall: null };
  };

  const chat = async (res: ServerResponse, body: ChatBody, b: Behavior): Promise<void> => {
    const messages = (body.messages as ChatMessage[]).filter((m) => m && typeof m === 'object');
    const a = applyLimits(chatAnswer(body, messages, b.reply), body);
    const n = typeof body.n === 'number' && body.n > 1 ? Math.min(body.n, 8) : 1;
    const id = `chatcmpl-mock${next()}`;
    const created = Math.floor(Date.now() / 1000);
    const model = String(body.model);
    const finish = a.toolCall ? 'tool_calls' : a.cut ? 'length' : 'stop';
    const promptText = messages.map((m) => textOf(m.content)).join('\n');
    const completionText = (a.content ?? a.toolCall?.arguments ?? '').repeat(n);
    const usage = usageOf(promptText, completionText, true, {
      cached: promptCache.lookup(promptText),
      reasoning: isReasoningModel(model) ? 16 * n : 0,
    });
    if (body.stream !== true) {
      const message: Record<string, unknown> = {
        role: 'assistant',
        content: a.content,
        refusal: null,
        annotations: [],
      };
      if (a.toolCall) {
        message.tool_calls = [
          {
            id: a.toolCall.id,
            type: 'function',
            function: { name: a.toolCall.name, arguments: a.toolCall.arguments },
          },
        ];
      }
      const choices = Array.from({ length: n }, (_, index) => ({
        index,
        message,
        logprobs: null,
        finish_reason: finish,
      }));
      return answer(
        res,
        {
          id,
          object: 'chat.completion',
          created,
          model,
          choices,
          ...(b.omitUsage ? {} : { usage }),
          service_tier: 'default',
          system_fingerprint: FINGERPRINT,
        },
        b,
      );
    }
    const includeUsage = body.stream_options?.include_usage === true && b.omitUsage !== true;
    const obfuscate = body.stream_options?.include_obfuscation !== false;
    const head = {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: FINGERPRINT,
    };
    const events: string[] = [];
    const push = (index: number, delta: object, finishReason: string | null): void => {
      const c: Record<string, unknown> = {
        ...head,
        choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
      };
      if (includeUsage) c.usage = null;
      if (obfuscate) c.obfuscation = obfuscation(events.length);
      events.push(`data: ${JSON.stringify(c)}\n\n`);
    };
    for (let index = 0; index < n; index++) {
      if (a.toolCall) {
        // The role and the tool call's id and name come in one delta; the arguments follow in pieces.
        push(
          index,
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                index: 0,
                id: a.toolCall.id,
                type: 'function',
                function: { name: a.toolCall.name, arguments: '' },
              },
            ],
            refusal: null,
          },
          null,
        );
        for (const arg of pieces(a.toolCall.arguments, 5))
          push(index, { tool_calls: [{ index: 0, function: { arguments: arg } }] }, null);
      } else {
        push(index, { role: 'assistant', content: '', refusal: null }, null);
        for (const piece of pieces(a.content ?? '')) push(index, { content: piece }, null);
      }
      push(index, {}, finish);
    }
    if (includeUsage) events.push(`data: ${JSON.stringify({ ...head, choices: [], usage })}\n\n`);
    events.push('data: [DONE]\n\n');
    return writeStream(res, events, b);
  };

  const completions = async (res: ServerResponse, body: CompletionBody, b: Behavior): Promise<void> => {
    const prompt = Array.isArray(body.prompt)
      ? body.prompt.map((p) => (typeof p === 'string' ? p : '')).join(' ')
      : typeof body.prompt === 'string'
        ? body.prompt
        : '';
    const text = b.reply ?? ` and so on: ${prompt}`;
    const id = `cmpl-mock${next()}`;
    const created = Math.floor(Date.now() / 1000);
    const model = String(body.model);
    const usage = usageOf(prompt, text, false);
    if (body.stream !== true) {
      return answer(
        res,
        {
          id,
          object: 'text_completion',
          created,
          model,
          choices: [{ text, index: 0, logprobs: null, finish_reason: 'stop' }],
          usage,
        },
        b,
      );
    }
    const includeUsage = body.stream_options?.include_usage === true;
    const chunk = (choices: object[], extra: object): string =>
      `data: ${JSON.stringify({ id, object: 'text_completion', created, choices, model, ...extra })}\n\n`;
    const nullUsage = includeUsage ? { usage: null } : {};
    const events = pieces(text).map((t) =>
      chunk([{ text: t, index: 0, logprobs: null, finish_reason: null }], nullUsage),
    );
    events.push(chunk([{ text: '', index: 0, logprobs: null, finish_reason: 'stop' }], nullUsage));
    if (includeUsage) events.push(chunk([], { usage }));
    events.push('data: [DONE]\n\n');
    return writeStream(res, events, b);
  };

  const embeddings = async (res: ServerResponse, body: EmbeddingBody, b: Behavior): Promise<void> => {
    const inputs = Array.isArray(body.input) ? (body.input as unknown[]) : [body.input];
    if (inputs.length === 0 || inputs.some((i) => i === undefined || i === '')) {
      return sendError(res, 400, errorBody("'$.input' is invalid.", 'invalid_request_error', null, 'input'));
    }
    const dims =
      typeof body.dimensions === 'number' && body.dimensions > 0
        ? body.dimensions
        : (opts.embeddingDimensions ?? 16);
    let total = 0;
    const data = inputs.map((input, index) => {
      const text = typeof input === 'string' ? input : JSON.stringify(input);
      total += tokens(text);
      const v = embeddingOf(text, dims);
      const embedding =
        body.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v;
      return { object: 'embedding', index, embedding };
    });
    return answer(
      res,
      {
        object: 'list',
        data,
        model: String(body.model),
        usage: { prompt_tokens: total, total_tokens: total },
      },
      b,
    );
  };

  const route = async (req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    let body: unknown = null;
    let badJson = false;
    try {
      body = raw ? (JSON.parse(raw) as unknown) : null;
    } catch {
      body = raw;
      badJson = true;
    }
    requests.push({ method, path, headers: req.headers, body });
    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return sendError(res, 401, defaultError(401, ''));
    }
    const model =
      body && typeof body === 'object' && typeof (body as { model?: unknown }).model === 'string'
        ? (body as { model: string }).model
        : '';
    const b: Behavior = queue.shift() ?? byModel.get(model) ?? {};
    if (b.delayMs) {
      await sleep(b.delayMs);
      if (res.destroyed) return;
    }
    if (b.status !== undefined)
      return sendError(res, b.status, b.body ?? defaultError(b.status, model), b.headers);

    const url = new URL(path, 'http://mock');
    const post = (p: string): boolean => method === 'POST' && url.pathname === p;
    if (post('/v1/chat/completions') || post('/v1/completions') || post('/v1/embeddings')) {
      if (badJson || !body || typeof body !== 'object') {
        return sendError(
          res,
          400,
          errorBody(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
            'invalid_request_error',
            null,
          ),
        );
      }
      if (!model)
        return sendError(
          res,
          400,
          errorBody('you must provide a model parameter', 'invalid_request_error', null),
        );
    }
    if (post('/v1/chat/completions')) {
      const chatBody = body as ChatBody;
      if (!Array.isArray(chatBody.messages) || chatBody.messages.length === 0) {
        return sendError(
          res,
          400,
          errorBody(
            "Missing required parameter: 'messages'.",
            'invalid_request_error',
            'missing_required_parameter',
            'messages',
          ),
        );
      }
      return chat(res, chatBody, b);
    }
    if (post('/v1/completions')) return completions(res, body as CompletionBody, b);
    if (post('/v1/embeddings')) return embeddings(res, body as EmbeddingBody, b);
    const model404 = (id: string): void => sendError(res, 404, defaultError(404, id));
    if (method === 'GET' && url.pathname === '/v1/models') {
      return send(res, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: MODEL_CREATED, owned_by: 'system' })),
      });
    }
    const m = /^\/v1\/models\/(.+)$/.exec(url.pathname);
    if (method === 'GET' && m) {
      const id = decodeURIComponent(m[1] ?? '');
      if (!models.includes(id)) return model404(id);
      return send(res, 200, { id, object: 'model', created: MODEL_CREATED, owned_by: 'system' });
    }
    return sendError(
      res,
      404,
      errorBody(`Invalid URL (${method} ${url.pathname})`, 'invalid_request_error', null),
    );
  };

  const server = createServer((req, res) => {
    state.count++;
    res.on('close', () => {
      if (!res.writableFinished) state.closedEarly++;
    });
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      route(req, res, Buffer.concat(parts).toString('utf8')).catch((err: unknown) => {
        if (!res.headersSent) sendError(res, 500, defaultError(500, ''));
        else res.destroy(err instanceof Error ? err : undefined);
      });
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...b: Behavior[]) => {
      queue.push(...b);
    },
    setModelBehavior: (model: string, behavior: Behavior | null) => {
      if (behavior) byModel.set(model, behavior);
      else byModel.delete(model);
    },
    get closedEarly() {
      return state.closedEarly;
    },
    get count() {
      return state.count;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * An Anthropic Messages API mock on node:http, faithful enough for the official
 * `@anthropic-ai/sdk`: `POST /v1/messages` (JSON or SSE with `event:` lines, events in the
 * documented order), `GET /v1/models` (paged) and `GET /v1/models/{id}`.
 *
 * Behaviour:
 * - requires the key (`x-api-key`, or `Authorization: Bearer` as SDKs for API version 2026-10-21
 *   send it; missing or wrong → 401 authentication_error) and a known `anthropic-version`
 *   (missing or unknown → 400; 2026-10-21 rejects temperature, top_p and top_k);
 * - validates the body like the real API: unknown top-level fields, missing `max_tokens`, bad
 *   roles, empty text blocks, tool_use blocks without tool_result blocks right after, tool_result
 *   blocks answering no tool_use, thinking budgets, forced tool use with thinking, and a final
 *   tool-use assistant turn that lacks its thinking block while thinking is on;
 * - replies with the last user text (plus a note per image); after tool results it answers
 *   `Result: <content>`; when tools are given and the last message is the user's, it calls a tool
 *   (two tools when two or more are given and parallel use is not disabled), inputs filled from
 *   the schema;
 * - with `thinking` enabled the answer starts with a thinking block carrying a signature (and a
 *   redacted_thinking block when the model name contains `redacted`); every thinking block sent
 *   back must carry a signature this mock issued for exactly that text (400 otherwise);
 * - `max_tokens` counts words (→ stop_reason max_tokens), `stop_sequences` cut the answer;
 * - a system block with `cache_control` is written to the cache on first sight and read after;
 * - errors: a queue (`failNext`) or a model name containing `error-400|401|429|500|529`;
 *   a model name containing `midstream-error` streams some text, then an `error` event.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MockUpstream, RecordedRequest } from './mock-upstream';

export const MOCK_ANTHROPIC_KEY = 'test-anthropic-key';

export interface MockAnthropic extends MockUpstream {
  readonly apiKey: string;
  /** Thinking signatures handed out, in order. */
  readonly issuedSignatures: string[];
  /** The next request answers with this error status (400, 401, 429, 500, 529, …). */
  failNext(status: number, message?: string): void;
}

export const MOCK_ANTHROPIC_MODELS = [
  { id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' },
  { id: 'claude-opus-4-1-20250805', display_name: 'Claude Opus 4.1', created_at: '2025-08-05T00:00:00Z' },
  { id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z' },
];

type Json = Record<string, unknown>;

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const DEFAULT_MESSAGES: Record<number, string> = {
  401: 'invalid x-api-key',
  429: 'Number of request tokens has exceeded your per-minute rate limit',
  500: 'Internal server error',
  529: 'Overloaded',
};

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
  get type(): string {
    return ERROR_TYPES[this.status] ?? (this.status >= 500 ? 'api_error' : 'invalid_request_error');
  }
}

const invalid = (message: string): ApiError => new ApiError(400, message);

const REQUEST_KEYS = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'tools',
  'tool_choice',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
  'thinking',
  'stream',
  'service_tier',
]);
/** Published API versions; 2026-10-21 removed temperature, top_p and top_k. */
const API_VERSIONS = new Set(['2023-06-01', '2026-10-21']);
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

// ---------------------------------------------------------------------------------------------
// the answer

type OutBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Json }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string };

interface Answer {
  id: string;
  model: string;
  content: OutBlock[];
  stop_reason: string;
  stop_sequence: string | null;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_creation_input_tokens: number;
    cache_read_input_tokens: number;
  };
}

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function blocksOf(content: unknown): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? (content as Json[]) : [];
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return blocksOf(content)
    .filter((b) => b.type === 'text')
    .map((b) => String(b.text))
    .join(' ');
}

function sampleValue(schema: unknown, text: string): unknown {
  const type = (schema as { type?: unknown } | undefined)?.type;
  if (type === 'number' || type === 'integer') return 42;
  if (type === 'boolean') return true;
  if (type === 'array') return [];
  if (type === 'object') return {};
  return text;
}

function toolInput(tool: Json, text: string): Json {
  const schema = tool.input_schema as { properties?: Record<string, unknown> } | undefined;
  const out: Json = {};
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) out[name] = sampleValue(prop, text);
  return out;
}

class Mock {
  readonly requests: RecordedRequest[] = [];
  readonly issuedSignatures: string[] = [];
  private readonly signatures = new Map<string, string>();
  private readonly redacted = new Set<string>();
  private readonly cache = new Set<string>();
  private readonly failures: Array<{ status: number; message?: string | undefined }> = [];
  private counter = 0;

  failNext(status: number, message?: string): void {
    this.failures.push({ status, message });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: unknown = null;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        body = raw;
      }
    }
    const url = req.url ?? '/';
    this.requests.push({ method: req.method ?? 'GET', path: url, headers: req.headers, body });
    const requestId = `req_${randomBytes(12).toString('hex')}`;
    res.setHeader('request-id', requestId);
    try {
      this.checkHeaders(req);
      const failure = this.failures.shift();
      if (failure)
        throw new ApiError(
          failure.status,
          failure.message ?? DEFAULT_MESSAGES[failure.status] ?? 'Injected error',
        );
      const path = url.split('?')[0] ?? '/';
      if (req.method === 'GET' && path === '/v1/models') return this.listModels(url, res);
      if (req.method === 'GET' && path.startsWith('/v1/models/')) return this.getModel(path, res);
      if (req.method === 'POST' && path === '/v1/messages') {
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw invalid('request body must be a JSON object');
        return this.messages(body as Json, res, String(req.headers['anthropic-version']));
      }
      throw new ApiError(404, `Not found: ${req.method} ${path}`);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'Internal server error');
      if (e.status === 429) res.setHeader('retry-after', '7');
      sendJson(res, e.status, {
        type: 'error',
        error: { type: e.type, message: e.message },
        request_id: requestId,
      });
    }
  }

  /**
   * The key may come as `x-api-key` or, as SDKs for API version 2026-10-21 send it, as
   * `Authorization: Bearer`; `anthropic-version` must name a published version.
   */
  private checkHeaders(req: IncomingMessage): void {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const key = req.headers['x-api-key'] ?? bearer;
    if (key === undefined) throw new ApiError(401, 'x-api-key header is required');
    if (key !== MOCK_ANTHROPIC_KEY) throw new ApiError(401, 'invalid x-api-key');
    const version = req.headers['anthropic-version'];
    if (version === undefined) throw invalid('anthropic-version: header is required');
    if (!API_VERSIONS.has(String(version)))
      throw invalid(`anthropic-version: unknown version ${String(version)}`);
  }

  private listModels(url: string, res: ServerResponse): void {
    const query = new URL(url, 'http://x').searchParams;
    const limit = Math.min(Number(query.get('limit') ?? 20) || 20, 1000);
    const after = query.get('after_id');
    const start = after ? MOCK_ANTHROPIC_MODELS.findIndex((m) => m.id === after) + 1 : 0;
    const page = MOCK_ANTHROPIC_MODELS.slice(start, start + limit).map((m) => ({ type: 'model', ...m }));
    sendJson(res, 200, {
      data: page,
      has_more: start + limit < MOCK_ANTHROPIC_MODELS.length,
      first_id: page[0]?.id ?? null,
      last_id: page[page.length - 1]?.id ?? null,
    });
  }

  private getModel(path: string, res: ServerResponse): void {
    const id = decodeURIComponent(path.slice('/v1/models/'.length));
    const model = MOCK_ANTHROPIC_MODELS.find((m) => m.id === id);
    if (!model) throw new ApiError(404, `model: ${id}`);
    sendJson(res, 200, { type: 'model', ...model });
  }

  private messages(body: Json, res: ServerResponse, version: string): void {
    this.validate(body);
    if (version !== '2023-06-01') {
      for (const key of ['temperature', 'top_p', 'top_k']) {
        if (key in body) throw invalid(`${key}: this parameter is not supported in API version ${version}`);
      }
    }
    const model = body.model as string;
    const injected = /error-(\d{3})/.exec(model);
    if (injected) {
      const status = Number(injected[1]);
      throw new ApiError(status, DEFAULT_MESSAGES[status] ?? `Injected error ${status}`);
    }
    const answer = this.answer(body);
    if (body.stream === true) this.stream(answer, res, model.includes('midstream-error'));
    else sendJson(res, 200, { type: 'message', role: 'assistant', ...answer });
  }

  // -------------------------------------------------------------------------------------------
  // validation

  private validate(body: Json): void {
    for (const key of Object.keys(body)) {
      if (!REQUEST_KEYS.has(key)) throw invalid(`${key}: Extra inputs are not permitted`);
    }
    if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('model: Field required');
    if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) {
      throw invalid('max_tokens: Field required');
    }
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0)
      throw invalid('messages: at least one message is required');
    if (body.system !== undefined) this.validateSystem(body.system);
    const tools = this.validateTools(body.tools);
    const thinking = this.validateThinking(body);
    this.validateToolChoice(body.tool_choice, tools, thinking);
    if (body.stop_sequences !== undefined) {
      if (!Array.isArray(body.stop_sequences) || !body.stop_sequences.every((s) => typeof s === 'string')) {
        throw invalid('stop_sequences: Input should be a valid list of strings');
      }
    }
    (messages as unknown[]).forEach((m, i) => this.validateMessage(m, i, messages as Json[]));
    this.validateThinkingTurn(messages as Json[], thinking);
  }

  private validateSystem(system: unknown): void {
    if (typeof system === 'string') return;
    if (!Array.isArray(system))
      throw invalid('system: Input should be a valid string or list of text blocks');
    for (const [i, b] of (system as Json[]).entries()) {
      if (b?.type !== 'text' || typeof b.text !== 'string' || b.text.length === 0) {
        throw invalid(`system.${i}: text content blocks must be non-empty`);
      }
    }
  }

  private validateTools(tools: unknown): Json[] {
    if (tools === undefined) return [];
    if (!Array.isArray(tools)) throw invalid('tools: Input should be a valid list');
    (tools as Json[]).forEach((t, i) => {
      if (typeof t?.name !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(t.name)) {
        throw invalid(`tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
      }
      const schema = t.input_schema as Json | undefined;
      if (!schema || typeof schema !== 'object' || schema.type !== 'object') {
        throw invalid(`tools.${i}.custom.input_schema.type: Input should be 'object'`);
      }
      for (const key of Object.keys(t)) {
        if (!['name', 'description', 'input_schema', 'cache_control', 'type'].includes(key)) {
          throw invalid(`tools.${i}.custom.${key}: Extra inputs are not permitted`);
        }
      }
    });
    return tools as Json[];
  }

  private validateThinking(body: Json): boolean {
    const thinking = body.thinking as Json | undefined;
    if (thinking === undefined) return false;
    if (thinking.type === 'disabled') return false;
    if (thinking.type === 'adaptive') return true;
    if (thinking.type !== 'enabled') throw invalid("thinking.type: Input should be 'enabled' or 'disabled'");
    const budget = thinking.budget_tokens;
    if (!Number.isInteger(budget) || (budget as number) < 1024) {
      throw invalid('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
    }
    if ((budget as number) >= (body.max_tokens as number)) {
      throw invalid('`max_tokens` must be greater than `thinking.budget_tokens`');
    }
    return true;
  }

  private validateToolChoice(choice: unknown, tools: Json[], thinking: boolean): void {
    if (choice === undefined) return;
    const c = choice as Json;
    if (!['auto', 'any', 'tool', 'none'].includes(String(c?.type))) {
      throw invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
    }
    if (c.type === 'tool' && !tools.some((t) => t.name === c.name)) {
      throw invalid(`tool_choice.name: tool "${String(c.name)}" is not in tools`);
    }
    if (thinking && (c.type === 'any' || c.type === 'tool')) {
      throw invalid('Thinking may not be enabled when tool_choice forces tool use.');
    }
  }

  private validateMessage(m: unknown, i: number, all: Json[]): void {
    const msg = m as Json;
    if (msg?.role !== 'user' && msg?.role !== 'assistant') {
      throw invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    }
    const content = msg.content;
    if (typeof content === 'string') {
      if (content.length === 0 && i < all.length - 1)
        throw invalid(`messages.${i}: all messages must have non-empty content`);
      return;
    }
    if (
      !Array.isArray(content) ||
      (content.length === 0 && !(i === all.length - 1 && msg.role === 'assistant'))
    ) {
      throw invalid(
        `messages.${i}: all messages must have non-empty content except for the optional final assistant message`,
      );
    }
    const prev = all[i - 1];
    const previousToolUses = new Set(
      prev?.role === 'assistant'
        ? blocksOf(prev.content)
            .filter((b) => b.type === 'tool_use')
            .map((b) => b.id)
        : [],
    );
    (content as Json[]).forEach((b, j) => {
      const at = `messages.${i}.content.${j}`;
      switch (b?.type) {
        case 'text':
          if (typeof b.text !== 'string' || b.text.length === 0)
            throw invalid(`${at}: text content blocks must be non-empty`);
          break;
        case 'image': {
          const src = b.source as Json | undefined;
          if (src?.type === 'base64') {
            if (!IMAGE_TYPES.has(String(src.media_type)))
              throw invalid(`${at}.image.source.base64.media_type: unsupported image type`);
            if (typeof src.data !== 'string' || src.data.length === 0)
              throw invalid(`${at}.image.source.base64.data: Field required`);
          } else if (src?.type === 'url') {
            if (typeof src.url !== 'string' || !/^https?:\/\//.test(src.url))
              throw invalid(`${at}.image.source.url.url: invalid URL`);
          } else {
            throw invalid(`${at}.image.source: Input tag does not match 'base64' or 'url'`);
          }
          break;
        }
        case 'document':
          break;
        case 'tool_use':
          if (msg.role !== 'assistant')
            throw invalid(`${at}: tool_use blocks are only allowed in assistant messages`);
          if (typeof b.id !== 'string' || !/^[a-zA-Z0-9_-]+$/.test(b.id))
            throw invalid(`${at}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
          if (typeof b.name !== 'string') throw invalid(`${at}.tool_use.name: Field required`);
          if (!b.input || typeof b.input !== 'object' || Array.isArray(b.input))
            throw invalid(`${at}.tool_use.input: Input should be a valid dictionary`);
          break;
        case 'tool_result':
          if (msg.role !== 'user')
            throw invalid(`${at}: tool_result blocks are only allowed in user messages`);
          if (!previousToolUses.has(b.tool_use_id)) {
            throw invalid(
              `${at}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(b.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
            );
          }
          break;
        case 'thinking':
          if (msg.role !== 'assistant')
            throw invalid(`${at}: thinking blocks are only allowed in assistant messages`);
          if (typeof b.signature !== 'string' || this.signatures.get(b.signature) !== b.thinking) {
            throw invalid(`${at}: Invalid \`signature\` in \`thinking\` block`);
          }
          break;
        case 'redacted_thinking':
          if (msg.role !== 'assistant' || typeof b.data !== 'string' || !this.redacted.has(b.data)) {
            throw invalid(`${at}: Invalid \`data\` in \`redacted_thinking\` block`);
          }
          break;
        default:
          throw invalid(
            `${at}.type: Input tag '${String(b?.type)}' found does not match any of the expected tags`,
          );
      }
    });
    if (msg.role === 'assistant') {
      const uses = (content as Json[]).filter((b) => b.type === 'tool_use').map((b) => String(b.id));
      const next = all[i + 1];
      if (uses.length === 0 || !next) return;
      const results = new Set(
        blocksOf(next.content)
          .filter((b) => b.type === 'tool_result')
          .map((b) => b.tool_use_id),
      );
      const missing = uses.filter((id) => !results.has(id));
      if (next.role !== 'user' || missing.length > 0) {
        throw invalid(
          `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
  }

  /** With thinking on, an assistant tool-use turn that the request continues must open with its thinking. */
  private validateThinkingTurn(messages: Json[], thinking: boolean): void {
    if (!thinking) return;
    const last = messages[messages.length - 1];
    const prev = messages[messages.length - 2];
    if (last?.role !== 'user' || prev?.role !== 'assistant') return;
    if (!blocksOf(last.content).some((b) => b.type === 'tool_result')) return;
    const first = blocksOf(prev.content)[0];
    if (first?.type !== 'thinking' && first?.type !== 'redacted_thinking') {
      throw invalid(
        `messages.${messages.length - 2}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first?.type)}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block.`,
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // generation

  private answer(body: Json): Answer {
    const messages = body.messages as Json[];
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const last = messages[messages.length - 1] as Json;
    const userText = textOf(lastUser?.content);
    const content: OutBlock[] = [];
    const thinkingType = (body.thinking as Json | undefined)?.type;
    const thinking = thinkingType === 'enabled' || thinkingType === 'adaptive';
    const model = body.model as string;

    if (thinking) {
      const text = `The user wrote: ${userText}`;
      const signature = randomBytes(48).toString('base64');
      this.signatures.set(signature, text);
      this.issuedSignatures.push(signature);
      content.push({ type: 'thinking', thinking: text, signature });
      if (model.includes('redacted')) {
        const data = randomBytes(32).toString('base64');
        this.redacted.add(data);
        content.push({ type: 'redacted_thinking', data });
      }
    }

    const results = blocksOf(last.content).filter((b) => b.type === 'tool_result');
    const tools = (body.tools as Json[] | undefined) ?? [];
    const choice = body.tool_choice as Json | undefined;
    let stopReason = 'end_turn';
    let stopSequence: string | null = null;

    if (last.role === 'user' && results.length === 0 && tools.length > 0 && choice?.type !== 'none') {
      let chosen = choice?.type === 'tool' ? tools.filter((t) => t.name === choice.name) : tools.slice(0, 1);
      if (choice?.type !== 'tool' && choice?.disable_parallel_tool_use !== true && tools.length >= 2) {
        chosen = tools.slice(0, 2);
      }
      content.push({ type: 'text', text: `Calling ${chosen.map((t) => String(t.name)).join(' and ')}.` });
      for (const tool of chosen) {
        content.push({
          type: 'tool_use',
          id: `toolu_${randomBytes(12).toString('hex')}`,
          name: String(tool.name),
          input: toolInput(tool, userText),
        });
      }
      stopReason = 'tool_use';
    } else {
      let text =
        results.length > 0
          ? `Result: ${results.map((r) => (typeof r.content === 'string' ? r.content : textOf(r.content))).join('; ')}`
          : userText;
      for (const b of blocksOf(lastUser?.content)) {
        if (b.type !== 'image') continue;
        const src = b.source as Json;
        text += src.type === 'base64' ? ` [image ${String(src.media_type)}]` : ` [image ${String(src.url)}]`;
      }
      for (const seq of (body.stop_sequences as string[] | undefined) ?? []) {
        const at = text.indexOf(seq);
        if (at >= 0) {
          text = text.slice(0, at);
          stopReason = 'stop_sequence';
          stopSequence = seq;
        }
      }
      const maxTokens = body.max_tokens as number;
      const parts = text.split(/(\s+)/);
      if (words(text) > maxTokens) {
        let kept = 0;
        text = parts.filter((p) => (p.trim() ? ++kept <= maxTokens : kept < maxTokens)).join('');
        stopReason = 'max_tokens';
        stopSequence = null;
      }
      if (text.length === 0) text = '(empty)';
      content.push({ type: 'text', text });
    }

    return {
      id: `msg_${String(++this.counter).padStart(4, '0')}${randomBytes(8).toString('hex')}`,
      model,
      content,
      stop_reason: stopReason,
      stop_sequence: stopSequence,
      usage: { ...this.inputUsage(body), output_tokens: outputTokens(content) },
    };
  }

  private inputUsage(body: Json): Omit<Answer['usage'], 'output_tokens'> {
    let cached = '';
    let rest = '';
    const system = body.system;
    if (Array.isArray(system)) {
      for (const b of system as Json[]) {
        if (b.cache_control) cached += ` ${String(b.text)}`;
        else rest += ` ${String(b.text)}`;
      }
    } else if (typeof system === 'string') {
      rest += ` ${system}`;
    }
    for (const m of body.messages as Json[]) {
      for (const b of blocksOf(m.content)) {
        if (b.type === 'text') rest += ` ${String(b.text)}`;
        else if (b.type === 'tool_result')
          rest += ` ${typeof b.content === 'string' ? b.content : textOf(b.content)}`;
        else if (b.type === 'tool_use') rest += ` ${JSON.stringify(b.input)}`;
        else if (b.type === 'image') rest += ' image image image';
      }
    }
    const cachedTokens = words(cached);
    let creation = 0;
    let read = 0;
    if (cachedTokens > 0) {
      const key = createHash('sha256').update(cached).digest('hex');
      if (this.cache.has(key)) read = cachedTokens;
      else {
        this.cache.add(key);
        creation = cachedTokens;
      }
    }
    return {
      input_tokens: Math.max(1, words(rest)),
      cache_creation_input_tokens: creation,
      cache_read_input_tokens: read,
    };
  }

  // -------------------------------------------------------------------------------------------
  // streaming (event order as documented: message_start, per block start/delta…/stop,
  // message_delta, message_stop; a ping after the first block start)

  private stream(answer: Answer, res: ServerResponse, failMidway: boolean): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const send = (type: string, data: Json): void => {
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    };
    send('message_start', {
      message: {
        id: answer.id,
        type: 'message',
        role: 'assistant',
        model: answer.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...answer.usage, output_tokens: 1 },
      },
    });
    for (const [index, block] of answer.content.entries()) {
      switch (block.type) {
        case 'text':
          send('content_block_start', { index, content_block: { type: 'text', text: '' } });
          if (index === 0) send('ping', {});
          for (const piece of pieces(block.text, 2))
            send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
          if (failMidway) {
            send('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
            res.end();
            return;
          }
          break;
        case 'tool_use': {
          send('content_block_start', {
            index,
            content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
          });
          const json = JSON.stringify(block.input);
          send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
          for (let i = 0; i < json.length; i += 5) {
            send('content_block_delta', {
              index,
              delta: { type: 'input_json_delta', partial_json: json.slice(i, i + 5) },
            });
          }
          break;
        }
        case 'thinking':
          send('content_block_start', {
            index,
            content_block: { type: 'thinking', thinking: '', signature: '' },
          });
          if (index === 0) send('ping', {});
          for (const piece of pieces(block.thinking, 3))
            send('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } });
          send('content_block_delta', {
            index,
            delta: { type: 'signature_delta', signature: block.signature },
          });
          break;
        case 'redacted_thinking':
          send('content_block_start', {
            index,
            content_block: { type: 'redacted_thinking', data: block.data },
          });
          break;
      }
      send('content_block_stop', { index });
    }
    send('message_delta', {
      delta: { stop_reason: answer.stop_reason, stop_sequence: answer.stop_sequence },
      usage: { output_tokens: answer.usage.output_tokens },
    });
    send('message_stop', {});
    res.end();
  }
}

/** Text in pieces of `n` words (whitespace kept), so that deltas join back to the text. */
function pieces(text: string, n: number): string[] {
  const tokens = text.match(/\S+\s*/g) ?? [text];
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i += n) out.push(tokens.slice(i, i + n).join(''));
  const lead = /^\s+/.exec(text)?.[0];
  if (lead && out.length > 0) out[0] = lead + out[0];
  return out;
}

function outputTokens(content: OutBlock[]): number {
  let n = 0;
  for (const b of content) {
    if (b.type === 'text') n += words(b.text);
    else if (b.type === 'thinking') n += words(b.thinking);
    else if (b.type === 'tool_use') n += words(JSON.stringify(b.input).replace(/[{}":,]/g, ' '));
    else n += 8;
  }
  return Math.max(1, n);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startMockAnthropic(): Promise<MockAnthropic> {
  const mock = new Mock();
  const server = createServer((req, res) => {
    mock.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: String(err) } });
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey: MOCK_ANTHROPIC_KEY,
    requests: mock.requests,
    issuedSignatures: mock.issuedSignatures,
    failNext: (status, message) => mock.failNext(status, message),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

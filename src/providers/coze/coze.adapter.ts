/**
 * The `coze` adapter: Coze bots through the v3 chat API over raw HTTP. `base_url` is the API
 * root without a version path (`https://api.coze.com`, or `https://api.coze.cn`). The bot id is
 * the request's model (a `coze/` prefix is stripped); the token travels as a bearer token.
 *
 * Streams use `POST /v3/chat` with `stream: true`. A non-stream call creates the chat, polls
 * `GET /v3/chat/retrieve` until it ends (200 ms, doubling up to 1 s, within the provider's
 * `timeout_ms`), then reads the answer from `GET /v3/chat/message/list`.
 */
import { UpstreamError } from '../../common/errors';
import type { HttpClient, HttpMethod, HttpResponse } from '../../common/http';
import { readUpstreamError } from '../../common/upstream-response';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../common/openai.types';
import type {
  AdapterDefinition,
  AdapterDeps,
  CallContext,
  ProviderAdapter,
  ProviderCapabilities,
  ProviderSettings,
} from '../adapter.interface';
import { baseUrlFaults } from '../settings-checks';
import { abortReason, Deadline, sleep } from './coze.deadline';
import { botIdFrom, toCozeRequest, userIdFor } from './coze.request';
import {
  chatFailedError,
  cozeError,
  mapCozeHttpError,
  toChatCompletion,
  unwrapEnvelope,
} from './coze.response';
import { cozeStreamChunks } from './coze.stream';
import type { CozeChat, CozeMessage } from './coze.types';

export const COZE_DEFAULT_BASE_URL = 'https://api.coze.com';

const CAPABILITIES: ProviderCapabilities = {
  chat: true,
  streaming: 'native',
  completions: false,
  embeddings: false,
  tools: false,
  vision: true,
  listModels: false,
  passthrough: false,
};

export interface CozePolling {
  /** First wait before asking for the chat's status. */
  initialMs: number;
  /** The wait doubles up to this. */
  maxMs: number;
}

const DEFAULT_POLLING: CozePolling = { initialMs: 200, maxMs: 1000 };
/** A chat cut by the deadline is cancelled upstream, within this bound. */
const CANCEL_TIMEOUT_MS = 2000;

/** What one upstream request needs from its call: the cancellation and the credential. */
interface Call {
  signal: AbortSignal;
  apiKey: string | undefined;
}

export class CozeAdapter implements ProviderAdapter {
  readonly type = 'coze';
  readonly capabilities = CAPABILITIES;
  private readonly apiRoot: string;

  constructor(
    private readonly settings: ProviderSettings,
    private readonly http: HttpClient,
    private readonly polling: CozePolling = DEFAULT_POLLING,
  ) {
    this.apiRoot = (settings.base_url ?? COZE_DEFAULT_BASE_URL).replace(/\/+$/, '');
  }

  async chat(req: ChatCompletionRequest, ctx: CallContext): Promise<ChatCompletion> {
    const body = toCozeRequest(req, {
      botId: botIdFrom(req.model),
      userId: userIdFor(req, ctx.keyId),
      stream: false,
    });
    ctx.onUpstreamRequest?.(body);
    const created = now();
    const deadline = new Deadline(this.settings.timeout_ms, ctx.signal);
    const call: Call = { signal: deadline.signal, apiKey: ctx.apiKey };
    let started: CozeChat | undefined;
    try {
      started = await this.call<CozeChat>('POST', '/v3/chat', call, body);
      const chat = await this.waitForEnd(started, call);
      const messages = await this.call<CozeMessage[]>(
        'GET',
        `/v3/chat/message/list?${chatQuery(chat)}`,
        call,
      );
      return toChatCompletion(chat, Array.isArray(messages) ? messages : [], modelName(req.model), created);
    } catch (err) {
      if (deadline.expired && started) await this.cancel(started, { signal: ctx.signal, apiKey: ctx.apiKey });
      throw err;
    } finally {
      deadline.clear();
    }
  }

  async streamChat(
    req: ChatCompletionRequest,
    ctx: CallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    const body = toCozeRequest(req, {
      botId: botIdFrom(req.model),
      userId: userIdFor(req, ctx.keyId),
      stream: true,
    });
    ctx.onUpstreamRequest?.(body);
    const res = await this.send('POST', '/v3/chat', { signal: ctx.signal, apiKey: ctx.apiKey }, body);
    if (isJson(res)) {
      // A refused stream comes back as a plain `{code, msg}` reply instead of events.
      unwrapEnvelope<unknown>(res.status, await readBodyJson(res));
      throw new UpstreamError(
        res.status,
        'upstream coze answered a stream request with JSON',
        null,
        'protocol',
      );
    }
    const chunks = cozeStreamChunks(res.body, { model: modelName(req.model), created: now() });
    // Read up to the first output, so that a chat failing before it answers is thrown here.
    let first: IteratorResult<ChatCompletionChunk, unknown>;
    try {
      first = await chunks.next();
    } catch (err) {
      throw abortReason(ctx.signal, err);
    }
    return replay(first, chunks);
  }

  /** Polls `retrieve` until the chat is completed, failed or waits for an action. */
  private async waitForEnd(chat: CozeChat, call: Call): Promise<CozeChat> {
    let current = chat;
    let wait = this.polling.initialMs;
    for (;;) {
      switch (current.status) {
        case 'completed':
        case 'requires_action':
          return current;
        case 'failed':
          throw chatFailedError(current);
        case 'canceled':
          throw cozeError(200, undefined, 'the Coze chat was canceled', 500);
        case 'created':
        case 'in_progress':
        case 'unknown':
        case undefined:
          break;
      }
      await sleep(wait, call.signal);
      wait = Math.min(wait * 2, this.polling.maxMs);
      current = await this.call<CozeChat>('GET', `/v3/chat/retrieve?${chatQuery(current)}`, call);
    }
  }

  /** Best effort: a chat left behind by the deadline would go on spending tokens. */
  private async cancel(chat: CozeChat, call: Call): Promise<void> {
    if (call.signal.aborted) return;
    try {
      const signal = AbortSignal.any([call.signal, AbortSignal.timeout(CANCEL_TIMEOUT_MS)]);
      const res = await this.send(
        'POST',
        '/v3/chat/cancel',
        { ...call, signal },
        {
          conversation_id: chat.conversation_id,
          chat_id: chat.id,
        },
      );
      await res.body.dump();
    } catch {
      // the deadline error is what the caller needs to see
    }
  }

  /** One call whose reply is a `{code, msg, data}` envelope: returns `data` or throws. */
  private async call<T>(method: HttpMethod, path: string, call: Call, body?: unknown): Promise<T> {
    const res = await this.send(method, path, call, body);
    try {
      return unwrapEnvelope<T>(res.status, await readBodyJson(res), retryHeaders(res));
    } catch (err) {
      throw abortReason(call.signal, err);
    }
  }

  /** One upstream request; a non-2xx answer is read and thrown as an UpstreamError in OpenAI's shape. */
  private async send(method: HttpMethod, path: string, call: Call, body?: unknown): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...this.settings.headers, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (call.apiKey) headers.authorization = `Bearer ${call.apiKey}`;
    let res: HttpResponse;
    try {
      res = await this.http.request({
        url: `${this.apiRoot}${path}`,
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: call.signal,
      });
    } catch (err) {
      throw abortReason(call.signal, err);
    }
    if (res.status >= 200 && res.status < 300) return res;
    throw await readUpstreamError(res, mapCozeHttpError);
  }
}

/** Parses a reply body as JSON; a body that is not JSON gives a protocol UpstreamError. */
async function readBodyJson(res: HttpResponse): Promise<unknown> {
  const text = await res.body.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UpstreamError(res.status, 'upstream coze returned a body that is not JSON', null, 'protocol');
  }
}

function isJson(res: HttpResponse): boolean {
  const type = res.headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().includes('application/json');
}

function retryHeaders(res: HttpResponse): Record<string, string> {
  const retry = res.headers['retry-after'];
  return typeof retry === 'string' ? { 'retry-after': retry } : {};
}

function chatQuery(chat: CozeChat): string {
  if (typeof chat.id !== 'string' || typeof chat.conversation_id !== 'string') {
    throw new UpstreamError(
      200,
      'upstream coze returned a chat without id or conversation_id',
      null,
      'protocol',
    );
  }
  return `conversation_id=${encodeURIComponent(chat.conversation_id)}&chat_id=${encodeURIComponent(chat.id)}`;
}

/** The model as the response names it: what the caller asked for. */
function modelName(model: unknown): string {
  return typeof model === 'string' ? model : '';
}

/** The first chunk (already read), then the rest of the stream. */
async function* replay(
  first: IteratorResult<ChatCompletionChunk, unknown>,
  rest: AsyncIterable<ChatCompletionChunk>,
): AsyncGenerator<ChatCompletionChunk> {
  if (first.done) return;
  yield first.value;
  yield* rest;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

export const cozeAdapter: AdapterDefinition = {
  type: 'coze',
  validate: (settings: ProviderSettings): string[] => baseUrlFaults(settings),
  create(settings: ProviderSettings, deps: AdapterDeps): ProviderAdapter {
    return new CozeAdapter(settings, deps.http);
  },
};

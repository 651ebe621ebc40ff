/**
 * The `gemini` adapter: Google's Gemini API (generativelanguage, v1beta) over raw HTTP.
 * `base_url` is the API root without a version path; the key travels in `x-goog-api-key`, never
 * in the URL, so it cannot leak into logs.
 */
import { GatewayError, UpstreamError } from '../../common/errors';
import { readJson } from '../../common/http';
import { readUpstreamError } from '../../common/upstream-response';
import type { HttpClient, HttpMethod, HttpResponse } from '../../common/http';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  Model,
} from '../../common/openai.types';
import type {
  AdapterDefinition,
  AdapterDeps,
  CallContext,
  ProviderAdapter,
  ProviderCapabilities,
  ProviderSettings,
} from '../adapter.interface';
import { baseUrlFaults } from '../settings-checks';
import { modelPath, toGeminiRequest } from './gemini.request';
import {
  fromGeminiResponse,
  mapGeminiError,
  randomIds,
  retryAfterSeconds,
  toEmbeddingResponse,
  toModels,
} from './gemini.response';
import type { IdSource } from './gemini.response';
import { geminiStreamChunks } from './gemini.stream';
import type {
  GeminiEmbedContentRequest,
  GeminiGenerateContentResponse,
  GeminiModelInfo,
} from './gemini.types';

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

const CAPABILITIES: ProviderCapabilities = {
  chat: true,
  streaming: 'native',
  completions: false,
  embeddings: true,
  tools: true,
  vision: true,
  listModels: true,
  passthrough: false,
  maxStop: 5,
};

export class GeminiAdapter implements ProviderAdapter {
  readonly type = 'gemini';
  readonly capabilities = CAPABILITIES;
  private readonly apiRoot: string;

  constructor(
    private readonly settings: ProviderSettings,
    private readonly http: HttpClient,
    private readonly ids: IdSource = randomIds,
  ) {
    const base = (settings.base_url ?? GEMINI_DEFAULT_BASE_URL).replace(/\/+$/, '');
    // A base that already names a version is used as it is.
    this.apiRoot = /\/v1(beta\d*|alpha)?$/.test(base) ? base : `${base}/v1beta`;
  }

  async chat(req: ChatCompletionRequest, ctx: CallContext): Promise<ChatCompletion> {
    const model = requireModel(req.model);
    const body = toGeminiRequest(req);
    ctx.onUpstreamRequest?.(body);
    const res = await this.send('POST', `/${modelPath(model)}:generateContent`, ctx, body);
    const json = (await readJson(res)) as GeminiGenerateContentResponse;
    return fromGeminiResponse(json, { model, created: now(), ids: this.ids });
  }

  async streamChat(
    req: ChatCompletionRequest,
    ctx: CallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    const model = requireModel(req.model);
    const body = toGeminiRequest(req);
    ctx.onUpstreamRequest?.(body);
    const res = await this.send('POST', `/${modelPath(model)}:streamGenerateContent?alt=sse`, ctx, body);
    return geminiStreamChunks(res.body, { model, created: now(), ids: this.ids });
  }

  async embeddings(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
    const model = requireModel(req.model);
    const texts = embeddingInputs(req.input);
    const path = modelPath(model);
    const request = (text: string): GeminiEmbedContentRequest => {
      const r: GeminiEmbedContentRequest = { content: { parts: [{ text }] } };
      if (typeof req.dimensions === 'number') r.outputDimensionality = req.dimensions;
      return r;
    };
    let vectors: number[][];
    if (texts.length === 1) {
      const body = request(texts[0] as string);
      ctx.onUpstreamRequest?.(body);
      const json = await readJson(await this.send('POST', `/${path}:embedContent`, ctx, body));
      vectors = [embeddingValues((json as { embedding?: unknown }).embedding)];
    } else {
      const body = { requests: texts.map((t) => ({ model: path, ...request(t) })) };
      ctx.onUpstreamRequest?.(body);
      const json = await readJson(await this.send('POST', `/${path}:batchEmbedContents`, ctx, body));
      const list = (json as { embeddings?: unknown }).embeddings;
      if (!Array.isArray(list) || list.length !== texts.length) {
        throw new UpstreamError(200, 'upstream returned an unexpected embeddings list', null, 'protocol');
      }
      vectors = list.map(embeddingValues);
    }
    const encoding = req.encoding_format === 'base64' ? 'base64' : 'float';
    return toEmbeddingResponse(vectors, model, encoding, estimateTokens(texts));
  }

  async listModels(ctx: CallContext): Promise<Model[]> {
    const all: GeminiModelInfo[] = [];
    let pageToken: string | undefined;
    // A few pages at most: the public list fits in one page of 1000.
    for (let page = 0; page < 10; page++) {
      const query = `?pageSize=1000${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`;
      const json = (await readJson(await this.send('GET', `/models${query}`, ctx))) as {
        models?: GeminiModelInfo[];
        nextPageToken?: string;
      };
      all.push(...(json.models ?? []).filter((m) => typeof m?.name === 'string'));
      pageToken = json.nextPageToken;
      if (!pageToken) break;
    }
    return toModels(all);
  }

  /** One upstream call; a non-2xx answer is read and thrown as an UpstreamError in OpenAI's shape. */
  private async send(
    method: HttpMethod,
    path: string,
    ctx: CallContext,
    body?: unknown,
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...this.settings.headers, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ctx.apiKey) headers['x-goog-api-key'] = ctx.apiKey;
    const res = await this.http.request({
      url: `${this.apiRoot}${path}`,
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: ctx.signal,
    });
    if (res.status >= 200 && res.status < 300) return res;
    throw await readUpstreamError(res, (status, raw, text) => ({
      body: mapGeminiError(status, raw, text),
      retryAfter: retryAfterSeconds(raw)?.toString(),
    }));
  }
}

function requireModel(model: unknown): string {
  if (typeof model !== 'string' || model.length === 0)
    throw GatewayError.badRequest('model is required', 'model');
  return model;
}

function embeddingInputs(input: EmbeddingRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((x): x is string => typeof x === 'string')) {
    return input;
  }
  throw GatewayError.badRequest(
    'input must be a string or a non-empty list of strings (token arrays are not supported)',
    'input',
  );
}

function embeddingValues(e: unknown): number[] {
  const values = e && typeof e === 'object' ? (e as { values?: unknown }).values : undefined;
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) {
    throw new UpstreamError(200, 'upstream returned an embedding without values', null, 'protocol');
  }
  return values;
}

/** Gemini's embedding answers carry no token count: about four characters a token. */
function estimateTokens(texts: string[]): number {
  return texts.reduce((sum, t) => sum + Math.max(1, Math.ceil(t.length / 4)), 0);
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

export const geminiAdapter: AdapterDefinition = {
  type: 'gemini',
  validate: (settings: ProviderSettings): string[] => baseUrlFaults(settings),
  create(settings: ProviderSettings, deps: AdapterDeps): ProviderAdapter {
    return new GeminiAdapter(settings, deps.http);
  },
};

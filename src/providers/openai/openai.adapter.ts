/**
 * `openai`: OpenAI and every OpenAI-compatible server (DeepSeek, vLLM, Ollama…). Offers a raw
 * pass-through so the gateway forwards bytes untouched; chat/streamChat parse for the cases
 * where the gateway must change the response (response transforms, internal calls).
 */
import type { PassthroughBody, PassthroughResponse } from '../../common/forward';
import { readJson, type HttpRequest } from '../../common/http';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  Completion,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  Model,
} from '../../common/openai.types';
import type {
  AdapterDefinition,
  AdapterDeps,
  CallContext,
  PassthroughRequest,
  ProviderAdapter,
  ProviderCapabilities,
  ProviderSettings,
} from '../adapter.interface';
import { openaiHeaders, openaiUrl } from './openai.request';
import { upstreamErrorFrom } from '../../common/upstream-response';
import type { UpstreamError } from '../../common/errors';
import { openaiStreamChunks } from './openai.stream';
import { baseUrlFaults } from '../settings-checks';

export class OpenAIAdapter implements ProviderAdapter {
  readonly type: string = 'openai';
  readonly capabilities: ProviderCapabilities = {
    chat: true,
    streaming: 'native',
    completions: true,
    embeddings: true,
    tools: true,
    vision: true,
    listModels: true,
    passthrough: true,
    maxStop: 4,
  };

  constructor(
    protected readonly settings: ProviderSettings,
    protected readonly deps: AdapterDeps,
  ) {}

  protected url(path: string): string {
    return openaiUrl(this.settings, path);
  }

  protected headers(ctx: CallContext): Record<string, string> {
    return openaiHeaders(this.settings, ctx.apiKey);
  }

  /** A non-2xx reply as an UpstreamError in OpenAI's shape (Azure maps its own errors). */
  protected upstreamError(res: PassthroughResponse): Promise<UpstreamError> {
    return upstreamErrorFrom(res, this.settings.id);
  }

  /** The chunks of a stream reply (Azure leaves its annotation events out). */
  protected streamChunks(body: PassthroughBody): AsyncIterable<ChatCompletionChunk> {
    return openaiStreamChunks(body);
  }

  /** Maps an OpenAI-API path to this upstream's URL (Azure overrides it). */
  protected urlFor(path: string, _model: string | undefined): string {
    return this.url(path);
  }

  passthrough(req: PassthroughRequest, ctx: CallContext): Promise<PassthroughResponse> {
    const http = this.deps.http;
    const request: HttpRequest = {
      url: this.urlFor(req.path, req.model),
      method: 'POST',
      headers: this.headers(ctx),
      body: req.body,
      signal: ctx.abort ?? ctx.signal,
    };
    return http.forward ? http.forward(request) : http.request(request);
  }

  private async postJson(path: string, body: object, ctx: CallContext): Promise<PassthroughResponse> {
    ctx.onUpstreamRequest?.(body);
    const m = (body as { model?: unknown }).model;
    const model = typeof m === 'string' ? m : undefined;
    const res = await this.passthrough({ path, body: JSON.stringify(body), model }, ctx);
    if (res.status >= 300) throw await this.upstreamError(res);
    return res;
  }

  async chat(req: ChatCompletionRequest, ctx: CallContext): Promise<ChatCompletion> {
    const res = await this.postJson('/chat/completions', { ...req, stream: false }, ctx);
    return (await readJson(res)) as ChatCompletion;
  }

  async streamChat(
    req: ChatCompletionRequest,
    ctx: CallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    const body = { ...req, stream: true, stream_options: { ...req.stream_options, include_usage: true } };
    const res = await this.postJson('/chat/completions', body, ctx);
    return this.streamChunks(res.body);
  }

  async completions(req: CompletionRequest, ctx: CallContext): Promise<Completion> {
    const res = await this.postJson('/completions', { ...req, stream: false }, ctx);
    return (await readJson(res)) as Completion;
  }

  async embeddings(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
    const res = await this.postJson('/embeddings', req, ctx);
    return (await readJson(res)) as EmbeddingResponse;
  }

  async listModels(ctx: CallContext): Promise<Model[]> {
    const res = await this.deps.http.request({
      url: this.url('/models'),
      method: 'GET',
      headers: this.headers(ctx),
      signal: ctx.signal,
    });
    if (res.status >= 300) throw await this.upstreamError(res);
    return this.modelsFrom(((await readJson(res)) as { data?: unknown }).data);
  }

  /** The `data` of a model list reply as OpenAI models (Azure's differ). */
  protected modelsFrom(data: unknown): Model[] {
    return Array.isArray(data) ? (data as Model[]) : [];
  }
}

export const openaiAdapter: AdapterDefinition = {
  type: 'openai',
  validate: (settings) => baseUrlFaults(settings),
  create: (settings, deps) => new OpenAIAdapter(settings, deps),
};

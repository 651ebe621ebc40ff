/**
 * The `anthropic` adapter: Anthropic's Messages API over raw HTTP. `base_url` is the API root
 * without a version path (`https://api.anthropic.com`); the key travels in `x-api-key`.
 */
import { UpstreamError } from '../../common/errors';
import { readUpstreamError } from '../../common/upstream-response';
import { readJson } from '../../common/http';
import type { HttpClient, HttpMethod, HttpResponse } from '../../common/http';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
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
import { toAnthropicRequest } from './anthropic.request';
import { fromAnthropicResponse, mapAnthropicError, toModels } from './anthropic.response';
import { anthropicStreamChunks } from './anthropic.stream';
import type { AnthropicModelInfo, AnthropicModelList, AnthropicResponse } from './anthropic.types';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_VERSION = '2023-06-01';

const CAPABILITIES: ProviderCapabilities = {
  chat: true,
  streaming: 'native',
  completions: false,
  embeddings: false,
  tools: true,
  vision: true,
  listModels: true,
  passthrough: false,
};

export class AnthropicAdapter implements ProviderAdapter {
  readonly type = 'anthropic';
  readonly capabilities = CAPABILITIES;
  private readonly base: string;

  constructor(
    private readonly settings: ProviderSettings,
    private readonly http: HttpClient,
  ) {
    this.base = (settings.base_url ?? ANTHROPIC_DEFAULT_BASE_URL).replace(/\/+$/, '');
  }

  async chat(req: ChatCompletionRequest, ctx: CallContext): Promise<ChatCompletion> {
    const body = toAnthropicRequest({ ...req, stream: false }, this.requestOptions());
    ctx.onUpstreamRequest?.(body);
    const res = await this.send('POST', '/v1/messages', ctx, body);
    const json = (await readJson(res)) as AnthropicResponse;
    if (!json || typeof json !== 'object' || !Array.isArray(json.content)) {
      throw new UpstreamError(res.status, 'upstream returned a message without content', null, 'protocol');
    }
    return fromAnthropicResponse(json, { created: now() });
  }

  async streamChat(
    req: ChatCompletionRequest,
    ctx: CallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    const body = toAnthropicRequest({ ...req, stream: true }, this.requestOptions());
    ctx.onUpstreamRequest?.(body);
    const res = await this.send('POST', '/v1/messages', ctx, body, 'text/event-stream');
    return anthropicStreamChunks(res.body, { model: body.model, created: now() });
  }

  async listModels(ctx: CallContext): Promise<Model[]> {
    const all: AnthropicModelInfo[] = [];
    let after: string | null | undefined;
    // A few pages at most: the list is short.
    for (let page = 0; page < 10; page++) {
      const query = `?limit=1000${after ? `&after_id=${encodeURIComponent(after)}` : ''}`;
      const json = (await readJson(await this.send('GET', `/v1/models${query}`, ctx))) as AnthropicModelList;
      const data = Array.isArray(json?.data) ? json.data : [];
      all.push(...data.filter((m) => typeof m?.id === 'string'));
      after = json?.last_id;
      if (!json?.has_more || !after) break;
    }
    return toModels(all);
  }

  private requestOptions(): { defaultMaxTokens: number | undefined } {
    return { defaultMaxTokens: this.settings.default_max_tokens };
  }

  /** One upstream call; a non-2xx answer is read and thrown as an UpstreamError in OpenAI's shape. */
  private async send(
    method: HttpMethod,
    path: string,
    ctx: CallContext,
    body?: unknown,
    accept = 'application/json',
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      ...this.settings.headers,
      accept,
      'anthropic-version': ANTHROPIC_VERSION,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ctx.apiKey) headers['x-api-key'] = ctx.apiKey;
    const res = await this.http.request({
      url: `${this.base}${path}`,
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: ctx.abort ?? ctx.signal,
    });
    if (res.status >= 200 && res.status < 300) return res;
    throw await readUpstreamError(res, (status, raw, text) => ({
      body: mapAnthropicError(status, raw, text),
    }));
  }
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

export const anthropicAdapter: AdapterDefinition = {
  type: 'anthropic',
  validate(settings: ProviderSettings): string[] {
    const errors = baseUrlFaults(settings);
    if (
      settings.default_max_tokens !== undefined &&
      (!Number.isInteger(settings.default_max_tokens) || settings.default_max_tokens < 1)
    ) {
      errors.push('default_max_tokens: must be a positive integer');
    }
    return errors;
  },
  create(settings: ProviderSettings, deps: AdapterDeps): ProviderAdapter {
    return new AnthropicAdapter(settings, deps.http);
  },
};

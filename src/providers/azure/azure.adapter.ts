/**
 * `azure`: Azure OpenAI. The wire format is OpenAI's, so it shares the OpenAI adapter and its
 * byte pass-through; only URLs, the key header, error bodies (content filter) and the stream's
 * annotation events differ.
 */
import type { UpstreamError } from '../../common/errors';
import type { PassthroughBody, PassthroughResponse } from '../../common/forward';
import type { ChatCompletionChunk, Model } from '../../common/openai.types';
import { readUpstreamError } from '../../common/upstream-response';
import type { AdapterDefinition, CallContext, PassthroughRequest } from '../adapter.interface';
import { OpenAIAdapter } from '../openai/openai.adapter';
import { openaiStreamChunks } from '../openai/openai.stream';
import { azureHeaders, azureUrl, validateAzure } from './azure.request';
import { isAnnotationOnly, mapAzureError, toModels } from './azure.response';

export class AzureAdapter extends OpenAIAdapter {
  override readonly type = 'azure';

  protected override url(path: string): string {
    return azureUrl(this.settings, path, undefined);
  }

  protected override urlFor(path: string, model: string | undefined): string {
    return azureUrl(this.settings, path, model);
  }

  protected override headers(ctx: CallContext): Record<string, string> {
    return azureHeaders(this.settings, ctx.apiKey);
  }

  protected override upstreamError(res: PassthroughResponse): Promise<UpstreamError> {
    return readUpstreamError(res, mapAzureError);
  }

  protected override streamChunks(body: PassthroughBody): AsyncIterable<ChatCompletionChunk> {
    return openaiStreamChunks(body, (c) => !isAnnotationOnly(c));
  }

  protected override modelsFrom(data: unknown): Model[] {
    return toModels(data);
  }

  /** Bytes pass through untouched on success; an error reply is mapped here (content filter). */
  override async passthrough(req: PassthroughRequest, ctx: CallContext): Promise<PassthroughResponse> {
    const res = await super.passthrough(req, ctx);
    if (res.status >= 300) throw await this.upstreamError(res);
    return res;
  }
}

export const azureAdapter: AdapterDefinition = {
  type: 'azure',
  validate: validateAzure,
  create: (settings, deps) => new AzureAdapter(settings, deps),
};

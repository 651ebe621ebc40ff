/**
 * `azure`: Azure OpenAI. The wire format is OpenAI's, so it shares the OpenAI adapter and its
 * byte pass-through; only URLs, the key header and content-filter errors differ.
 */
import type { AdapterDefinition, CallContext } from '../adapter.interface';
import { OpenAIAdapter } from '../openai/openai.adapter';
import { azureHeaders, azureUrl, validateAzure } from './azure.request';

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
}

export const azureAdapter: AdapterDefinition = {
  type: 'azure',
  validate: validateAzure,
  create: (settings, deps) => new AzureAdapter(settings, deps),
};

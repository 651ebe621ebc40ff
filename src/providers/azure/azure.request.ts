/**
 * Azure OpenAI URLs and headers. Two path styles:
 * - deployments (default): `{base}/openai/deployments/{deployment}/{op}?api-version={v}`, the
 *   deployment being the target's model;
 * - v1 (`api_version: v1`): `{base}/openai/v1/{op}`, the model in the body as on OpenAI.
 * The key goes in the `api-key` header.
 */
import type { ProviderSettings } from '../adapter.interface';
import { baseUrlFaults } from '../settings-checks';

export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

export function isV1Style(settings: ProviderSettings): boolean {
  return settings.api_version === 'v1' || settings.options.api_style === 'v1';
}

export function azureUrl(settings: ProviderSettings, path: string, deployment: string | undefined): string {
  const base = (settings.base_url ?? '').replace(/\/+$/, '');
  if (isV1Style(settings)) return `${base}/openai/v1${path}`;
  const version = encodeURIComponent(settings.api_version ?? AZURE_DEFAULT_API_VERSION);
  if (path === '/models') return `${base}/openai/models?api-version=${version}`;
  const name = encodeURIComponent(deployment ?? '');
  return `${base}/openai/deployments/${name}${path}?api-version=${version}`;
}

export function azureHeaders(settings: ProviderSettings, apiKey: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...settings.headers };
  if (apiKey) headers['api-key'] = apiKey;
  return headers;
}

export function validateAzure(settings: ProviderSettings): string[] {
  return baseUrlFaults(settings, 'required for type azure (https://<resource>.openai.azure.com)');
}

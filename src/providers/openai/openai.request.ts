/** Request side of the OpenAI-compatible adapter: URLs and headers. */
import type { ProviderSettings } from '../adapter.interface';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export function openaiUrl(settings: ProviderSettings, path: string): string {
  const base = (settings.base_url ?? OPENAI_DEFAULT_BASE_URL).replace(/\/+$/, '');
  return base + path;
}

export function openaiHeaders(
  settings: ProviderSettings,
  apiKey: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...settings.headers };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  return headers;
}

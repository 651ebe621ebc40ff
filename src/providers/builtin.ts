/** The built-in adapter types. Plugins register theirs into a copy of this registry. */
import type { AdapterDefinition } from './adapter.interface';
import { anthropicAdapter } from './anthropic/anthropic.adapter';
import { azureAdapter } from './azure/azure.adapter';
import { cozeAdapter } from './coze/coze.adapter';
import { geminiAdapter } from './gemini/gemini.adapter';
import { mockAdapter } from './mock/mock.adapter';
import { openaiAdapter } from './openai/openai.adapter';
import { AdapterRegistry } from './registry';

export const BUILTIN_ADAPTERS: readonly AdapterDefinition[] = [
  openaiAdapter,
  azureAdapter,
  anthropicAdapter,
  geminiAdapter,
  cozeAdapter,
  mockAdapter,
];

export function builtinRegistry(): AdapterRegistry {
  const registry = new AdapterRegistry();
  for (const def of BUILTIN_ADAPTERS) registry.register(def);
  return registry;
}

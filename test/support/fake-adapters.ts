/**
 * A registry of small fake adapter definitions named like the built-ins, for config tests that
 * must not depend on the real adapters. `azure` checks its settings the way a real one would.
 */
import type {
  AdapterDefinition,
  ProviderAdapter,
  ProviderCapabilities,
  ProviderSettings,
} from '../../src/providers/adapter.interface';
import { AdapterRegistry } from '../../src/providers/registry';

export const BUILTIN_TYPES = ['openai', 'azure', 'anthropic', 'gemini', 'coze', 'mock'] as const;

const CAPABILITIES: ProviderCapabilities = {
  chat: true,
  streaming: 'simulated',
  completions: false,
  embeddings: false,
  tools: false,
  vision: false,
  listModels: false,
  passthrough: false,
};

function fakeAdapter(type: string): ProviderAdapter {
  return {
    type,
    capabilities: CAPABILITIES,
    chat: () => Promise.reject(new Error(`fake ${type} adapter: not callable`)),
    streamChat: () => Promise.reject(new Error(`fake ${type} adapter: not callable`)),
  };
}

export function fakeDefinition(
  type: string,
  validate?: (settings: ProviderSettings) => string[],
): AdapterDefinition {
  return { type, ...(validate ? { validate } : {}), create: () => fakeAdapter(type) };
}

export function fakeRegistry(): AdapterRegistry {
  const registry = new AdapterRegistry();
  for (const type of BUILTIN_TYPES) {
    registry.register(
      type === 'azure'
        ? fakeDefinition(type, (s) => [
            ...(s.base_url ? [] : ['base_url: required for type azure']),
            ...(s.api_version ? [] : ['api_version: required for type azure']),
          ])
        : fakeDefinition(type),
    );
  }
  return registry;
}

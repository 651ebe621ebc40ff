/**
 * GenAI semantic-convention names (OpenTelemetry semantic conventions, gen-ai registry). They are
 * still "development" status, so, as the conventions' own guidance asks, the names are copied
 * here rather than imported from the package's unstable `incubating` entry point.
 */
export const GEN_AI = {
  OPERATION_NAME: 'gen_ai.operation.name',
  PROVIDER_NAME: 'gen_ai.provider.name',
  /** Superseded by gen_ai.provider.name; still read by many back ends. */
  SYSTEM: 'gen_ai.system',
  REQUEST_MODEL: 'gen_ai.request.model',
  REQUEST_MAX_TOKENS: 'gen_ai.request.max_tokens',
  REQUEST_TEMPERATURE: 'gen_ai.request.temperature',
  REQUEST_TOP_P: 'gen_ai.request.top_p',
  REQUEST_STREAM: 'gen_ai.request.stream',
  RESPONSE_MODEL: 'gen_ai.response.model',
  RESPONSE_ID: 'gen_ai.response.id',
  RESPONSE_FINISH_REASONS: 'gen_ai.response.finish_reasons',
  RESPONSE_TIME_TO_FIRST_CHUNK: 'gen_ai.response.time_to_first_chunk',
  USAGE_INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  USAGE_OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  USAGE_CACHE_READ_INPUT_TOKENS: 'gen_ai.usage.cache_read.input_tokens',
  USAGE_REASONING_OUTPUT_TOKENS: 'gen_ai.usage.reasoning.output_tokens',
  CONVERSATION_ID: 'gen_ai.conversation.id',
} as const;

/** The gateway's own attributes. */
export const GATEWAY = {
  TRACE_ID: 'gateway.trace_id',
  KEY_ID: 'gateway.key_id',
  SESSION_ID: 'gateway.session_id',
  ENDPOINT: 'gateway.endpoint',
  PROVIDER_ID: 'gateway.provider_id',
  STATUS: 'gateway.status',
  OVERHEAD_MS: 'gateway.overhead_ms',
  TTFT_MS: 'gateway.ttft_ms',
  ATTEMPTS: 'gateway.attempts',
  ATTEMPT_INDEX: 'gateway.attempt.index',
  LATENCY_MS: 'gateway.latency_ms',
  REPLAY_OF: 'gateway.replay_of',
} as const;

const OPERATIONS: Record<string, string> = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'text_completion',
  '/v1/embeddings': 'embeddings',
};

export function operationOf(endpoint: string): string {
  return OPERATIONS[endpoint] ?? 'chat';
}

/** gen_ai.provider.name (and the older gen_ai.system) for an adapter type. */
const PROVIDER_NAMES: Record<string, { name: string; system: string }> = {
  openai: { name: 'openai', system: 'openai' },
  azure: { name: 'azure.ai.openai', system: 'az.ai.openai' },
  anthropic: { name: 'anthropic', system: 'anthropic' },
  gemini: { name: 'gcp.gemini', system: 'gcp.gemini' },
  coze: { name: 'coze', system: 'coze' },
};

export function providerNames(type: string | undefined): { name: string; system: string } {
  if (!type) return { name: 'unknown', system: 'unknown' };
  return PROVIDER_NAMES[type] ?? { name: type, system: type };
}

/** Hosts the adapters call when a provider entry has no base_url. */
export const DEFAULT_HOSTS: Record<string, string> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
  coze: 'https://api.coze.com',
};

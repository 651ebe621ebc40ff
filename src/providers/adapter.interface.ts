/**
 * The shared adapter interface (SPEC §8). One adapter class per platform, in
 * `src/providers/<type>/`, converting OpenAI-format requests to the platform and the platform's
 * responses, stream events, usage, finish reasons and errors back to OpenAI format.
 * Adapters never see the Fastify request and import nothing but `common/`.
 */
import type { UpstreamAbort } from '../common/abort';
import type { PassthroughResponse } from '../common/forward';
import type { HttpClient } from '../common/http';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  Completion,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  Model,
} from '../common/openai.types';

export interface ProviderCapabilities {
  chat: boolean;
  streaming: 'native' | 'simulated';
  completions: boolean;
  embeddings: boolean;
  tools: boolean;
  vision: boolean;
  listModels: boolean;
  /** The adapter speaks OpenAI's wire format and can forward bytes untouched (`passthrough`). */
  passthrough: boolean;
  /** Most stop sequences the platform accepts (the `stop` transform caps the merged list). */
  maxStop?: number;
}

/** One provider entry of the config (`providers.<id>`), already validated and env-substituted. */
export interface ProviderSettings {
  id: string;
  type: string;
  base_url?: string;
  api_key?: string;
  headers: Record<string, string>;
  timeout_ms: number;
  api_version?: string;
  discover_models?: boolean;
  default_max_tokens?: number;
  /** Any other keys of the provider entry, for adapter-specific settings. */
  options: Record<string, unknown>;
}

export interface CallContext {
  /** Aborted on timeout and when the client disconnects. */
  signal: AbortSignal;
  /** The same cancellation as an undici-compatible EventEmitter (cheaper than `signal`). */
  abort?: UpstreamAbort;
  requestId: string;
  /** The upstream credential: the provider's `api_key`, or the caller's forwarded bearer token. */
  apiKey?: string;
  /** The gateway client key id (Coze uses it as `user_id` when the request has no `user`). */
  keyId?: string;
  /** Adapters report the exact body they send upstream, in the platform's own format. */
  onUpstreamRequest?: (body: unknown) => void;
}

/** OpenAI-format body forwarded to an OpenAI-compatible upstream. */
export interface PassthroughRequest {
  /** Path below the provider's base URL: `/chat/completions`, `/completions`, `/embeddings`. */
  path: string;
  /** The JSON body: the client's own bytes when nothing in them changes, else serialized text. */
  body: string | Buffer;
  /** The upstream model the body names (Azure puts it in the URL). */
  model?: string | undefined;
}

export interface ProviderAdapter {
  readonly type: string;
  readonly capabilities: ProviderCapabilities;
  chat(req: ChatCompletionRequest, ctx: CallContext): Promise<ChatCompletion>;
  /** Resolves once the upstream accepted the call, so errors surface before SSE headers go out. */
  streamChat(req: ChatCompletionRequest, ctx: CallContext): Promise<AsyncIterable<ChatCompletionChunk>>;
  completions?(req: CompletionRequest, ctx: CallContext): Promise<Completion>;
  embeddings?(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse>;
  listModels?(ctx: CallContext): Promise<Model[]>;
  /**
   * OpenAI-format upstreams only: send `body` and return the upstream response unread.
   * A non-2xx status is returned (the gateway maps it as an OpenAI error body), or thrown as an
   * UpstreamError by an adapter that maps its platform's error bodies itself (Azure). An
   * HttpResponse (undici's body stream) is one too.
   */
  passthrough?(req: PassthroughRequest, ctx: CallContext): Promise<PassthroughResponse>;
}

export interface AdapterDeps {
  http: HttpClient;
}

/** What a built-in or a plugin registers: a type name and a factory. */
export interface AdapterDefinition {
  type: string;
  /** Checks the provider's settings; returns messages naming the fault (the config path is added). */
  validate?(settings: ProviderSettings): string[];
  create(settings: ProviderSettings, deps: AdapterDeps): ProviderAdapter;
}

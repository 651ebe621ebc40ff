/**
 * The contract table: one row per built-in adapter (Azure twice, one per path style), saying how
 * to start its faithful mock upstream, where each scenario's data lands in the platform's own
 * request, and which scenarios the platform cannot do, with the reason. The suite in
 * adapters.contract.e2e.ts runs every scenario against every row; the convention spec checks that
 * every built-in type has a row.
 */
import { MOCK_ANTHROPIC_KEY, startMockAnthropic } from '../support/mock-anthropic';
import { MOCK_AZURE_KEY, startMockAzure } from '../support/mock-azure';
import { MOCK_COZE_TOKEN, startMockCoze } from '../support/mock-coze';
import { MOCK_GEMINI_KEY, startMockGemini } from '../support/mock-gemini';
import { startMockOpenAI } from '../support/mock-openai';
import type { RecordedRequest } from '../support/mock-upstream';

type Json = Record<string, unknown>;

/** A scenario the platform cannot do: the gateway must refuse it with a clear 400. */
export interface Unsupported {
  unsupported: string;
}
/** A scenario that does not apply (no such feature, or no upstream): skipped, with the reason. */
export interface NotApplicable {
  notApplicable: string;
}

export interface RunningUpstream {
  /** The body of a provider entry in the gateway config (`{ type: …, base_url: …, … }`). */
  provider: string;
  /** Requests the upstream received; null for the in-process `mock` adapter. */
  requests: RecordedRequest[] | null;
  /** Makes the next upstream call fail with this HTTP status (absent: cannot be injected). */
  failNext?(status: number): void;
  /** Makes the next upstream answer carry no usage (absent: the platform always reports it). */
  omitUsageNext?(): void;
  /** Makes the next stream break off after its first events (else `models.midstreamError`). */
  breakNextStream?(): void;
  close(): Promise<void>;
}

export interface ContractRow {
  /** Row name; also the route prefix clients use (`<name>/<model>`). */
  name: string;
  /** The adapter type under test (a key of the built-in registry). */
  type: string;
  start(): Promise<RunningUpstream>;
  /** Upstream model names the scenarios ask for. */
  /** `midstreamError`: a model the mock answers with a stream that fails after its first events. */
  models: { chat: string; reasoning?: string; embedding?: string; midstreamError?: string };
  /** A stream failing after the first byte: what the mock does (or why it does not apply). */
  midstream: true | NotApplicable;
  /** `max_tokens` (→ finish_reason length) and `stop` reach the platform as its own limits. */
  limits: true | NotApplicable;
  /** `/v1/embeddings` and legacy `/v1/completions`. */
  embeddings: true | Unsupported;
  completions: true | Unsupported;
  /** The text the platform request carries as system prompt; null when it carries none. */
  systemOf(body: Json): string | null;
  /** Conversation turns in the platform request (system prompt not counted). */
  turnsOf(body: Json): number;
  /** The images of the platform request, each as `data:<mime>` or the URL it names. */
  imagesOf(body: Json): string[];
  system: true | { dropped: string };
  imageDataUrl: true | Unsupported;
  imageHttpUrl: true | Unsupported;
  tools: true | Unsupported;
  /** A retryable and a caller-fault status to inject, and the status the client gets for the latter. */
  errors: { retryable: number; fatal: number; fatalStatus: number } | NotApplicable;
  /** How the row gets cached tokens reported, and whether the platform reports reasoning tokens. */
  usage: {
    cached: 'long-prompt' | 'cache-control' | NotApplicable;
    reasoningTokens: true | NotApplicable;
    /** The row's mock can answer without usage (`omitUsageNext`), as some compatible servers do. */
    estimated?: true;
  };
  /** Thinking with signatures across a tool round trip. */
  reasoningRoundTrip: true | NotApplicable;
  /** Stream events of the platform's own that the byte pass-through keeps (named, with the reason). */
  streamAnnotations?: string;
}

const messagesOf = (body: Json): Json[] => (Array.isArray(body.messages) ? (body.messages as Json[]) : []);
const partsOf = (content: unknown): Json[] => (Array.isArray(content) ? (content as Json[]) : []);

/** OpenAI's wire format (openai, azure): the request arrives as the client sent it. */
const openaiShape = {
  systemOf(body: Json): string | null {
    const sys = messagesOf(body).find((m) => m.role === 'system' || m.role === 'developer');
    return typeof sys?.content === 'string' ? sys.content : null;
  },
  turnsOf: (body: Json): number =>
    messagesOf(body).filter((m) => m.role !== 'system' && m.role !== 'developer').length,
  imagesOf(body: Json): string[] {
    const out: string[] = [];
    for (const m of messagesOf(body)) {
      for (const p of partsOf(m.content)) {
        if (p.type !== 'image_url') continue;
        const url = String((p.image_url as Json).url);
        out.push(url.startsWith('data:') ? url.slice(0, url.indexOf(';')) : url);
      }
    }
    return out;
  },
};

const azureRow = (name: string, apiVersion: string): ContractRow => ({
  name,
  type: 'azure',
  async start() {
    const mock = await startMockAzure();
    return {
      provider: `{ type: azure, base_url: "${mock.endpoint}", api_key: ${MOCK_AZURE_KEY}, api_version: "${apiVersion}" }`,
      requests: mock.requests,
      failNext: (status) => mock.failNext(status),
      breakNextStream: () => mock.resetNextStream(),
      close: () => mock.close(),
    };
  },
  midstream: true,
  models: { chat: 'gpt-4o-prod', reasoning: 'o4-mini', embedding: 'embed-small' },
  embeddings: true,
  completions: true,
  limits: true,
  ...openaiShape,
  system: true,
  imageDataUrl: true,
  imageHttpUrl: true,
  tools: true,
  errors: { retryable: 429, fatal: 404, fatalStatus: 404 },
  usage: { cached: 'long-prompt', reasoningTokens: true },
  reasoningRoundTrip: { notApplicable: 'Azure OpenAI chat completions return no reasoning text' },
  streamAnnotations:
    'Azure opens a stream with a prompt-filter event (no choices, empty id); the byte pass-through keeps it as Azure sent it',
});

export const CONTRACT_ROWS: readonly ContractRow[] = [
  {
    name: 'openai',
    type: 'openai',
    async start() {
      const mock = await startMockOpenAI({ apiKey: 'sk-contract' });
      return {
        provider: `{ type: openai, base_url: "${mock.baseUrl}", api_key: sk-contract }`,
        requests: mock.requests,
        failNext: (status) => mock.enqueue({ status }),
        omitUsageNext: () => mock.enqueue({ omitUsage: true }),
        breakNextStream: () => mock.enqueue({ resetAfterChunks: 3 }),
        close: () => mock.close(),
      };
    },
    midstream: true,
    models: { chat: 'gpt-4o', reasoning: 'o4-mini', embedding: 'text-embedding-3-small' },
    embeddings: true,
    completions: true,
    limits: true,
    ...openaiShape,
    system: true,
    imageDataUrl: true,
    imageHttpUrl: true,
    tools: true,
    errors: { retryable: 503, fatal: 400, fatalStatus: 400 },
    usage: { cached: 'long-prompt', reasoningTokens: true, estimated: true },
    reasoningRoundTrip: { notApplicable: 'OpenAI chat completions return no reasoning text' },
  },
  azureRow('azure', '2024-10-21'),
  azureRow('azure-v1', 'v1'),
  {
    name: 'anthropic',
    type: 'anthropic',
    async start() {
      const mock = await startMockAnthropic();
      return {
        provider: `{ type: anthropic, base_url: "${mock.baseUrl}", api_key: ${MOCK_ANTHROPIC_KEY} }`,
        requests: mock.requests,
        failNext: (status) => mock.failNext(status),
        close: () => mock.close(),
      };
    },
    midstream: true,
    models: {
      chat: 'claude-sonnet-4-5',
      reasoning: 'claude-sonnet-4-5',
      midstreamError: 'claude-midstream-error',
    },
    embeddings: { unsupported: 'Anthropic offers no embeddings API' },
    limits: true,
    completions: { unsupported: 'Anthropic has only the Messages API' },
    systemOf(body) {
      if (typeof body.system === 'string') return body.system;
      if (Array.isArray(body.system)) return (body.system as Json[]).map((b) => String(b.text)).join('\n');
      return null;
    },
    turnsOf: (body) => messagesOf(body).length,
    imagesOf(body) {
      const out: string[] = [];
      for (const m of messagesOf(body)) {
        for (const b of partsOf(m.content)) {
          if (b.type !== 'image') continue;
          const src = b.source as Json;
          out.push(src.type === 'base64' ? `data:${String(src.media_type)}` : String(src.url));
        }
      }
      return out;
    },
    system: true,
    imageDataUrl: true,
    imageHttpUrl: true,
    tools: true,
    errors: { retryable: 529, fatal: 400, fatalStatus: 400 },
    usage: {
      cached: 'cache-control',
      reasoningTokens: { notApplicable: 'Anthropic counts thinking inside output_tokens, not apart' },
    },
    reasoningRoundTrip: true,
  },
  {
    name: 'gemini',
    type: 'gemini',
    async start() {
      const mock = await startMockGemini();
      return {
        provider: `{ type: gemini, base_url: "${mock.baseUrl}", api_key: ${MOCK_GEMINI_KEY} }`,
        requests: mock.requests,
        failNext: (status) => mock.failNext(status),
        close: () => mock.close(),
      };
    },
    midstream: true,
    models: {
      chat: 'gemini-2.5-flash',
      reasoning: 'gemini-2.5-flash',
      embedding: 'gemini-embedding-001',
      midstreamError: 'gemini-midstream-error',
    },
    embeddings: true,
    completions: { unsupported: 'Gemini has no legacy completions endpoint' },
    limits: true,
    systemOf(body) {
      const sys = body.systemInstruction as { parts?: Json[] } | undefined;
      return sys?.parts ? sys.parts.map((p) => String(p.text)).join('\n') : null;
    },
    turnsOf: (body) => (Array.isArray(body.contents) ? body.contents.length : 0),
    imagesOf(body) {
      const out: string[] = [];
      for (const c of (body.contents as Json[] | undefined) ?? []) {
        for (const p of partsOf(c.parts)) {
          if (p.inlineData) out.push(`data:${String((p.inlineData as Json).mimeType)}`);
          if (p.fileData) out.push(String((p.fileData as Json).fileUri));
        }
      }
      return out;
    },
    system: true,
    imageDataUrl: true,
    imageHttpUrl: true,
    tools: true,
    errors: { retryable: 503, fatal: 400, fatalStatus: 400 },
    usage: { cached: 'long-prompt', reasoningTokens: true },
    reasoningRoundTrip: true,
  },
  {
    name: 'coze',
    type: 'coze',
    async start() {
      const mock = await startMockCoze();
      return {
        provider: `{ type: coze, base_url: "${mock.baseUrl}", api_key: ${MOCK_COZE_TOKEN}, timeout_ms: 10000 }`,
        requests: mock.requests,
        failNext: (status) => mock.failNext(status),
        close: () => mock.close(),
      };
    },
    midstream: true,
    models: { chat: 'bot-contract', midstreamError: 'bot-stream-error' },
    embeddings: { unsupported: 'Coze bots offer no embeddings' },
    limits: {
      notApplicable: 'a Coze bot answers within its own model settings; the chat API takes no limits',
    },
    completions: { unsupported: 'Coze bots only chat' },
    systemOf: () => null,
    turnsOf: (body) => (Array.isArray(body.additional_messages) ? body.additional_messages.length : 0),
    imagesOf(body) {
      const out: string[] = [];
      for (const m of (body.additional_messages as Json[] | undefined) ?? []) {
        if (m.content_type !== 'object_string') continue;
        for (const item of JSON.parse(String(m.content)) as Json[]) {
          if (item.type === 'image') out.push(String(item.file_url));
        }
      }
      return out;
    },
    system: { dropped: 'Coze v3 has no system role; the bot’s own prompt applies (SPEC §8)' },
    imageDataUrl: { unsupported: 'Coze reads images by URL or uploaded file id, not data URLs' },
    imageHttpUrl: true,
    tools: { unsupported: 'a Coze bot calls its own plugins; the chat API takes no tool definitions' },
    errors: { retryable: 429, fatal: 400, fatalStatus: 400 },
    usage: {
      cached: { notApplicable: 'Coze usage has no cached-token count' },
      reasoningTokens: { notApplicable: 'Coze usage has no reasoning-token count' },
    },
    reasoningRoundTrip: { notApplicable: 'Coze reasoning carries no signature to send back' },
  },
  {
    name: 'mock',
    type: 'mock',
    async start() {
      return { provider: '{ type: mock }', requests: null, close: async () => undefined };
    },
    midstream: { notApplicable: 'the mock adapter has no upstream to fail' },
    models: { chat: 'mock-model', embedding: 'mock-embed' },
    embeddings: true,
    completions: true,
    limits: { notApplicable: 'the mock adapter echoes the whole message' },
    systemOf: () => null,
    turnsOf: () => 0,
    imagesOf: () => [],
    system: true,
    imageDataUrl: true,
    imageHttpUrl: true,
    tools: true,
    errors: { notApplicable: 'the mock adapter has no upstream to fail' },
    usage: {
      cached: { notApplicable: 'the mock adapter has no cache' },
      reasoningTokens: { notApplicable: 'the mock adapter does not reason' },
    },
    reasoningRoundTrip: { notApplicable: 'the mock adapter does not reason' },
  },
];

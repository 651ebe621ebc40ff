/**
 * OpenAI wire types used across the gateway. Types come from the official `openai` SDK (type-only
 * import: nothing of the SDK is loaded at run time); the gateway's extensions are declared here.
 */
import type OpenAI from 'openai';

export type ChatMessage = OpenAI.Chat.ChatCompletionMessageParam;
export type ChatContentPart = OpenAI.Chat.ChatCompletionContentPart;
export type ChatTool = OpenAI.Chat.ChatCompletionTool;
export type ChatToolCall = OpenAI.Chat.ChatCompletionMessageToolCall;
export type Model = OpenAI.Models.Model;
export type CompletionRequest = OpenAI.Completions.CompletionCreateParams;
export type Completion = OpenAI.Completions.Completion;
export type EmbeddingRequest = OpenAI.Embeddings.EmbeddingCreateParams;
export type EmbeddingResponse = OpenAI.Embeddings.CreateEmbeddingResponse;

/** Anthropic-style reasoning block kept so that it can be sent back with its signature. */
export interface ThinkingBlock {
  type: 'thinking' | 'redacted_thinking';
  thinking?: string;
  signature?: string;
  data?: string;
}

/** Reasoning fields the gateway adds to OpenAI messages and deltas (DeepSeek-style naming). */
export interface ReasoningFields {
  reasoning_content?: string | null;
  /** Provider reasoning blocks with their signatures, so a history can be sent back verbatim. */
  thinking_blocks?: ThinkingBlock[];
}

/** A chat request as the gateway handles it: OpenAI's params (stream or not) plus reasoning in history. */
export type ChatCompletionRequest = Omit<OpenAI.Chat.ChatCompletionCreateParams, 'messages'> & {
  messages: Array<ChatMessage & ReasoningFields>;
  [extra: string]: unknown;
};

export interface UsageDetails {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; [k: string]: unknown } | null;
  completion_tokens_details?: { reasoning_tokens?: number; [k: string]: unknown } | null;
}

export type ChatCompletionMessage = OpenAI.Chat.ChatCompletionMessage & ReasoningFields;

export type ChatCompletion = Omit<OpenAI.Chat.ChatCompletion, 'choices' | 'usage'> & {
  choices: Array<Omit<OpenAI.Chat.ChatCompletion.Choice, 'message'> & { message: ChatCompletionMessage }>;
  usage?: UsageDetails;
};

export type ChatCompletionChunkDelta = OpenAI.Chat.ChatCompletionChunk.Choice.Delta & ReasoningFields;

export type ChatCompletionChunk = Omit<OpenAI.Chat.ChatCompletionChunk, 'choices' | 'usage'> & {
  choices: Array<Omit<OpenAI.Chat.ChatCompletionChunk.Choice, 'delta'> & { delta: ChatCompletionChunkDelta }>;
  usage?: UsageDetails | null;
};

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

/** Usage as the gateway records it (SPEC §5). */
export interface TraceUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  source: 'provider' | 'estimated';
}

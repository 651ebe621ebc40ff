/**
 * Gemini responses → OpenAI format: `generateContent` results, finish reasons, usage, errors,
 * embeddings and the model list. Pure functions: no I/O.
 */
import { randomBytes } from 'node:crypto';
import { typeForStatus } from '../../common/errors';
import type { OpenAIErrorBody } from '../../common/errors';
import type {
  ChatCompletion,
  ChatCompletionMessage,
  ChatToolCall,
  EmbeddingResponse,
  FinishReason,
  Model,
  ThinkingBlock,
  UsageDetails,
} from '../../common/openai.types';
import type {
  GeminiCandidate,
  GeminiGenerateContentResponse,
  GeminiModelInfo,
  GeminiPart,
  GeminiUsageMetadata,
} from './gemini.types';

/** Ids the conversion needs; injectable so that tests are deterministic. */
export interface IdSource {
  /** A tool-call id (`call_<random>`, SPEC §8). */
  toolCallId(): string;
  /** A completion id (`chatcmpl-…`). */
  completionId(responseId?: string): string;
}

export const randomIds: IdSource = {
  toolCallId: () => `call_${randomToken(24)}`,
  completionId: (responseId) => (responseId ? `chatcmpl-${responseId}` : `chatcmpl-${randomToken(24)}`),
};

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

// ---------------------------------------------------------------------------------------------
// finish reasons

/**
 * Gemini `finishReason` values that do not mean a normal end (reference: `Candidate.FinishReason`
 * of the generateContent API). Anything else (STOP, OTHER, MALFORMED_FUNCTION_CALL…) is `stop`.
 */
const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  IMAGE_SAFETY: 'content_filter',
  IMAGE_PROHIBITED_CONTENT: 'content_filter',
};

/** Gemini `finishReason` → OpenAI `finish_reason`. A STOP that ended in a function call is `tool_calls`. */
export function mapFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  const mapped = reason !== undefined ? FINISH_REASONS[reason] : undefined;
  return mapped ?? (hasToolCalls ? 'tool_calls' : 'stop');
}

// ---------------------------------------------------------------------------------------------
// usage

export function mapUsage(meta: GeminiUsageMetadata | undefined): UsageDetails | undefined {
  if (!meta) return undefined;
  const prompt = meta.promptTokenCount ?? 0;
  const thoughts = meta.thoughtsTokenCount ?? 0;
  const completion = (meta.candidatesTokenCount ?? 0) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: meta.totalTokenCount ?? prompt + completion,
    prompt_tokens_details: { cached_tokens: meta.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

// ---------------------------------------------------------------------------------------------
// candidate parts

/** What one candidate's parts (or one stream chunk's parts) say, in OpenAI terms. */
export interface PartSummary {
  text: string;
  reasoning: string;
  toolCalls: Array<{ name: string; arguments: string }>;
  /** One block per thought signature, holding the thought text received since the previous one. */
  thinkingBlocks: ThinkingBlock[];
}

/**
 * Walks parts in order, keeping thought text aside until a signature closes it into a
 * `thinking` block. `pendingThought` carries unsigned thought text across stream chunks.
 */
export class PartReader {
  private pendingThought = '';

  read(parts: GeminiPart[] | undefined): PartSummary {
    const out: PartSummary = { text: '', reasoning: '', toolCalls: [], thinkingBlocks: [] };
    for (const part of parts ?? []) {
      if (part.thought === true) {
        const t = part.text ?? '';
        out.reasoning += t;
        this.pendingThought += t;
      } else if (part.functionCall) {
        out.toolCalls.push({
          name: part.functionCall.name,
          arguments: JSON.stringify(part.functionCall.args ?? {}),
        });
      } else if (typeof part.text === 'string') {
        out.text += part.text;
      }
      if (typeof part.thoughtSignature === 'string' && part.thoughtSignature.length > 0) {
        out.thinkingBlocks.push({
          type: 'thinking',
          thinking: this.pendingThought,
          signature: part.thoughtSignature,
        });
        this.pendingThought = '';
      }
    }
    return out;
  }
}

function toToolCalls(calls: PartSummary['toolCalls'], ids: IdSource): ChatToolCall[] {
  return calls.map((c) => ({
    id: ids.toolCallId(),
    type: 'function',
    function: { name: c.name, arguments: c.arguments },
  }));
}

export function candidateMessage(candidate: GeminiCandidate, ids: IdSource): ChatCompletionMessage {
  const parts = new PartReader().read(candidate.content?.parts);
  const toolCalls = toToolCalls(parts.toolCalls, ids);
  const message: ChatCompletionMessage = {
    role: 'assistant',
    content: parts.text.length > 0 || toolCalls.length === 0 ? parts.text : null,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (parts.reasoning.length > 0) message.reasoning_content = parts.reasoning;
  if (parts.thinkingBlocks.length > 0) message.thinking_blocks = parts.thinkingBlocks;
  return message;
}

export interface ResponseContext {
  model: string;
  created: number;
  ids: IdSource;
}

export function fromGeminiResponse(res: GeminiGenerateContentResponse, ctx: ResponseContext): ChatCompletion {
  const candidates = res.candidates ?? [];
  const choices: ChatCompletion['choices'] = candidates.map((candidate, i) => {
    const message = candidateMessage(candidate, ctx.ids);
    return {
      index: candidate.index ?? i,
      message,
      finish_reason: mapFinishReason(candidate.finishReason, (message.tool_calls?.length ?? 0) > 0),
      logprobs: null,
    };
  });
  if (choices.length === 0) {
    // No candidate: the prompt itself was blocked (promptFeedback.blockReason), or nothing came back.
    const blocked = res.promptFeedback?.blockReason !== undefined;
    choices.push({
      index: 0,
      message: { role: 'assistant', content: '', refusal: null },
      finish_reason: blocked ? 'content_filter' : 'stop',
      logprobs: null,
    });
  }
  const completion: ChatCompletion = {
    id: ctx.ids.completionId(res.responseId),
    object: 'chat.completion',
    created: ctx.created,
    model: res.modelVersion ?? ctx.model,
    choices,
  };
  const usage = mapUsage(res.usageMetadata);
  if (usage) completion.usage = usage;
  return completion;
}

// ---------------------------------------------------------------------------------------------
// errors

/** Gemini `{error: {code, message, status}}` → OpenAI's error shape; other bodies keep their text. */
export function mapGeminiError(status: number, raw: unknown, fallbackText: string): OpenAIErrorBody {
  const type = typeForStatus(status);
  if (raw && typeof raw === 'object' && 'error' in raw) {
    const e = raw.error;
    if (e && typeof e === 'object') {
      const o = e as Record<string, unknown>;
      const message = typeof o.message === 'string' && o.message.length > 0 ? o.message : fallbackText;
      const code = typeof o.status === 'string' ? o.status.toLowerCase() : null;
      return { error: { message, type, param: null, code } };
    }
  }
  const text = fallbackText.trim().slice(0, 500);
  return {
    error: {
      message: text.length > 0 ? text : `upstream answered HTTP ${status}`,
      type,
      param: null,
      code: null,
    },
  };
}

/** `RetryInfo.retryDelay` ("28s", "1.5s") in an error's details, in whole seconds. */
export function retryAfterSeconds(raw: unknown): number | undefined {
  if (!raw || typeof raw !== 'object' || !('error' in raw)) return undefined;
  const e = raw.error;
  if (!e || typeof e !== 'object') return undefined;
  const details = (e as { details?: unknown }).details;
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    const delay = d && typeof d === 'object' ? (d as { retryDelay?: unknown }).retryDelay : undefined;
    if (typeof delay === 'string') {
      const m = /^(\d+(?:\.\d+)?)s$/.exec(delay);
      if (m) return Math.max(0, Math.ceil(Number(m[1])));
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// embeddings and models

export function toEmbeddingResponse(
  vectors: number[][],
  model: string,
  encoding: 'float' | 'base64',
  promptTokens: number,
): EmbeddingResponse {
  return {
    object: 'list',
    model,
    data: vectors.map((values, index) => ({
      object: 'embedding',
      index,
      // With encoding_format "base64" the vector travels as little-endian float32 bytes.
      embedding: encoding === 'base64' ? (toBase64Floats(values) as unknown as number[]) : values,
    })),
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

function toBase64Floats(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

export function toModels(models: GeminiModelInfo[]): Model[] {
  return models.map((m) => ({
    id: m.name.replace(/^models\//, ''),
    object: 'model',
    created: 0,
    owned_by: 'google',
  }));
}

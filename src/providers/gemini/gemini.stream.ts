/**
 * `streamGenerateContent?alt=sse` → OpenAI chat chunks. Each SSE `data:` is a whole
 * GenerateContentResponse; a functionCall part arrives whole, so it becomes one tool-call delta
 * with its full arguments. After the finish chunk(s) the last chunk carries the usage with
 * `choices: []` (the gateway decides whether the client sees it).
 */
import { UpstreamError } from '../../common/errors';
import type { ChatCompletionChunk, ChatCompletionChunkDelta, UsageDetails } from '../../common/openai.types';
import { parseSSE } from '../../common/sse/parse';
import { mapFinishReason, mapGeminiError, mapUsage, PartReader } from './gemini.response';
import type { IdSource } from './gemini.response';
import type { GeminiGenerateContentResponse } from './gemini.types';

export interface StreamContext {
  model: string;
  created: number;
  ids: IdSource;
}

interface CandidateState {
  reader: PartReader;
  toolCalls: number;
  finished: boolean;
}

export class GeminiStreamConverter {
  private id: string | undefined;
  private model: string;
  private readonly candidates = new Map<number, CandidateState>();
  private usage: UsageDetails | undefined;

  constructor(private readonly ctx: StreamContext) {
    this.model = ctx.model;
  }

  /** Chunks for one GenerateContentResponse of the stream. */
  push(res: GeminiGenerateContentResponse): ChatCompletionChunk[] {
    this.id ??= this.ctx.ids.completionId(res.responseId);
    if (res.modelVersion) this.model = res.modelVersion;
    const usage = mapUsage(res.usageMetadata);
    if (usage) this.usage = usage;
    const out: ChatCompletionChunk[] = [];

    (res.candidates ?? []).forEach((candidate, i) => {
      const index = candidate.index ?? i;
      const state = this.state(index, out);
      const parts = state.reader.read(candidate.content?.parts);
      if (parts.reasoning.length > 0) out.push(this.chunk(index, { reasoning_content: parts.reasoning }));
      if (parts.text.length > 0) out.push(this.chunk(index, { content: parts.text }));
      for (const call of parts.toolCalls) {
        out.push(
          this.chunk(index, {
            tool_calls: [
              {
                index: state.toolCalls++,
                id: this.ctx.ids.toolCallId(),
                type: 'function',
                function: { name: call.name, arguments: call.arguments },
              },
            ],
          }),
        );
      }
      if (parts.thinkingBlocks.length > 0)
        out.push(this.chunk(index, { thinking_blocks: parts.thinkingBlocks }));
      if (candidate.finishReason && !state.finished) {
        state.finished = true;
        out.push(this.chunk(index, {}, mapFinishReason(candidate.finishReason, state.toolCalls > 0)));
      }
    });

    if ((res.candidates ?? []).length === 0 && res.promptFeedback?.blockReason !== undefined) {
      const state = this.state(0, out);
      if (!state.finished) {
        state.finished = true;
        out.push(this.chunk(0, {}, 'content_filter'));
      }
    }
    return out;
  }

  /** Finish chunks for candidates the stream left open, then the usage chunk. */
  end(): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = [];
    if (this.candidates.size === 0) this.state(0, out);
    for (const [index, state] of this.candidates) {
      if (!state.finished) {
        state.finished = true;
        out.push(this.chunk(index, {}, state.toolCalls > 0 ? 'tool_calls' : 'stop'));
      }
    }
    if (this.usage) out.push({ ...this.envelope(), choices: [], usage: this.usage });
    return out;
  }

  private state(index: number, out: ChatCompletionChunk[]): CandidateState {
    let state = this.candidates.get(index);
    if (!state) {
      state = { reader: new PartReader(), toolCalls: 0, finished: false };
      this.candidates.set(index, state);
      out.push(this.chunk(index, { role: 'assistant', content: '' }));
    }
    return state;
  }

  private envelope(): Omit<ChatCompletionChunk, 'choices'> {
    this.id ??= this.ctx.ids.completionId();
    return { id: this.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.model };
  }

  private chunk(
    index: number,
    delta: ChatCompletionChunkDelta,
    finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null,
  ): ChatCompletionChunk {
    return { ...this.envelope(), choices: [{ index, delta, finish_reason: finish, logprobs: null }] };
  }
}

/** Parse one SSE `data:` payload; an `{error}` object in the stream is thrown as an UpstreamError. */
export function parseStreamData(data: string): GeminiGenerateContentResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new UpstreamError(200, 'upstream stream sent an event that is not JSON', null, 'protocol');
  }
  if (parsed === null || typeof parsed !== 'object') {
    throw new UpstreamError(200, 'upstream stream sent an event that is not an object', null, 'protocol');
  }
  if ('error' in parsed) {
    const code = (parsed as { error?: { code?: unknown } }).error?.code;
    const status = typeof code === 'number' && code >= 400 ? code : 500;
    const body = mapGeminiError(status, parsed, 'upstream stream failed');
    throw new UpstreamError(status, body.error.message, body, 'http');
  }
  return parsed;
}

/** The whole conversion: SSE bytes in, OpenAI chunks out. */
export async function* geminiStreamChunks(
  body: AsyncIterable<Uint8Array | string>,
  ctx: StreamContext,
): AsyncGenerator<ChatCompletionChunk> {
  const converter = new GeminiStreamConverter(ctx);
  for await (const event of parseSSE(body)) {
    if (event.data.trim() === '' || event.data === '[DONE]') continue;
    yield* converter.push(parseStreamData(event.data));
  }
  yield* converter.end();
}

/**
 * Coze v3 chat stream → OpenAI chat chunks. The event name is in the SSE `event:` line:
 * - `conversation.chat.created` / `in_progress`: the chat id (no output);
 * - `conversation.message.delta` of type `answer`: content and `reasoning_content` deltas;
 * - `conversation.message.completed`: the whole message again, ignored (as are follow-ups and
 *   verbose packets);
 * - `conversation.chat.completed`: finish chunk (`stop`), then the usage chunk with `choices: []`;
 * - `conversation.chat.failed` and `error`: thrown as UpstreamError; `done`: end of stream.
 * The role chunk is sent with the first output, so a failure before any output is thrown before
 * the first chunk.
 */
import { UpstreamError } from '../../common/errors';
import type {
  ChatCompletionChunk,
  ChatCompletionChunkDelta,
  FinishReason,
  UsageDetails,
} from '../../common/openai.types';
import { parseSSE } from '../../common/sse/parse';
import {
  ANSWER_SEPARATOR,
  chatFailedError,
  codeAndMsg,
  completionId,
  cozeError,
  isAnswer,
  mapUsage,
} from './coze.response';
import type { CozeChat, CozeMessage } from './coze.types';

export interface CozeStreamContext {
  model: string;
  created: number;
}

export const COZE_EVENTS = {
  chatCreated: 'conversation.chat.created',
  chatInProgress: 'conversation.chat.in_progress',
  chatCompleted: 'conversation.chat.completed',
  chatFailed: 'conversation.chat.failed',
  chatRequiresAction: 'conversation.chat.requires_action',
  messageDelta: 'conversation.message.delta',
  messageCompleted: 'conversation.message.completed',
  error: 'error',
  done: 'done',
} as const;

export class CozeStreamConverter {
  private id: string | undefined;
  private started = false;
  private finished = false;
  private ended = false;
  private answerId: string | undefined;
  private wroteContent = false;
  private separatorDue = false;

  constructor(private readonly ctx: CozeStreamContext) {}

  /** Chunks for one SSE event; after `done` every event is ignored. */
  push(event: string | undefined, data: string): ChatCompletionChunk[] {
    if (this.ended) return [];
    switch (event) {
      case COZE_EVENTS.done:
        this.ended = true;
        return [];
      case COZE_EVENTS.chatCreated:
      case COZE_EVENTS.chatInProgress: {
        const chat = parseData<CozeChat>(data);
        if (typeof chat.id === 'string') this.id ??= completionId(chat.id);
        return [];
      }
      case COZE_EVENTS.messageDelta:
        return this.delta(parseData<CozeMessage>(data));
      case COZE_EVENTS.chatCompleted: {
        const chat = parseData<CozeChat>(data);
        return this.finish('stop', mapUsage(chat.usage));
      }
      case COZE_EVENTS.chatRequiresAction:
        // The bot waits for a tool result the gateway cannot give: the answer ends here.
        return this.finish('stop', undefined);
      case COZE_EVENTS.chatFailed:
        throw chatFailedError(parseData<CozeChat>(data));
      case COZE_EVENTS.error: {
        const { code, msg } = codeAndMsg(parseData<unknown>(data));
        throw cozeError(200, code, msg ?? 'the Coze stream reported an error', 500);
      }
      case undefined:
      default:
        // message.completed, audio deltas and events added later carry nothing to forward.
        return [];
    }
  }

  /** Called when the body ended: a stream cut before the chat finished is a protocol error. */
  end(): ChatCompletionChunk[] {
    if (!this.finished) {
      throw new UpstreamError(200, 'upstream coze stream ended before the chat completed', null, 'protocol');
    }
    return [];
  }

  private delta(message: CozeMessage): ChatCompletionChunk[] {
    if (this.finished || !isAnswer(message)) return [];
    if (message.id !== undefined && message.id !== this.answerId) {
      this.separatorDue = this.wroteContent;
      this.answerId = message.id;
    }
    const out: ChatCompletionChunk[] = [];
    const reasoning = message.reasoning_content ?? '';
    let content = message.content ?? '';
    if (reasoning.length > 0) {
      this.start(out);
      out.push(this.chunk({ reasoning_content: reasoning }));
    }
    if (content.length > 0) {
      if (this.separatorDue) {
        content = ANSWER_SEPARATOR + content;
        this.separatorDue = false;
      }
      this.start(out);
      this.wroteContent = true;
      out.push(this.chunk({ content }));
    }
    return out;
  }

  private finish(reason: FinishReason, usage: UsageDetails | undefined): ChatCompletionChunk[] {
    if (this.finished) return [];
    this.finished = true;
    const out: ChatCompletionChunk[] = [];
    this.start(out);
    out.push(this.chunk({}, reason));
    if (usage) out.push({ ...this.envelope(), choices: [], usage });
    return out;
  }

  private start(out: ChatCompletionChunk[]): void {
    if (this.started) return;
    this.started = true;
    out.push(this.chunk({ role: 'assistant', content: '' }));
  }

  private envelope(): Omit<ChatCompletionChunk, 'choices'> {
    this.id ??= completionId(undefined);
    return { id: this.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.ctx.model };
  }

  private chunk(delta: ChatCompletionChunkDelta, finish: FinishReason | null = null): ChatCompletionChunk {
    return { ...this.envelope(), choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] };
  }
}

function parseData<T>(data: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new UpstreamError(200, 'upstream coze sent a stream event that is not JSON', null, 'protocol');
  }
  if (parsed === null || typeof parsed !== 'object') {
    throw new UpstreamError(200, 'upstream coze sent a stream event that is not an object', null, 'protocol');
  }
  return parsed as T;
}

/** The whole conversion: SSE bytes in, OpenAI chunks out. */
export async function* cozeStreamChunks(
  body: AsyncIterable<Uint8Array | string>,
  ctx: CozeStreamContext,
): AsyncGenerator<ChatCompletionChunk> {
  const converter = new CozeStreamConverter(ctx);
  for await (const event of parseSSE(body)) {
    // Read to the end even after `done`, so the connection can be reused.
    yield* converter.push(event.event, event.data);
  }
  yield* converter.end();
}

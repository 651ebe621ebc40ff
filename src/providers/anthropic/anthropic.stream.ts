/**
 * Messages API stream (SSE: message_start, content_block_start/delta/stop, message_delta,
 * message_stop, ping, error) → OpenAI chat chunks. `AnthropicStreamConverter.push` is the step
 * for one event; `end` checks the stream closed properly and gives the last chunk, which always
 * carries the usage with `choices: []` (the gateway decides whether the client sees it).
 *
 * OpenAI's tool-call `index` counts tool_use blocks only (0, 1, …), not Anthropic's content
 * block index. A thinking block's signature closes it: the `signature_delta` becomes a
 * `thinking_blocks` entry holding the block's whole text and its signature, so that a client
 * can send the block back.
 */
import { UpstreamError } from '../../common/errors';
import type { ChatCompletionChunk, ChatCompletionChunkDelta, FinishReason } from '../../common/openai.types';
import { parseSSE } from '../../common/sse/parse';
import { mapAnthropicError, mapStopReason, mapUsage, statusForErrorType } from './anthropic.response';
import type {
  AnthropicResponse,
  AnthropicResponseBlock,
  AnthropicStreamDelta,
  AnthropicStreamEvent,
  AnthropicUsage,
} from './anthropic.types';

export interface StreamContext {
  /** The requested model, used until message_start names the one that answers. */
  model: string;
  created: number;
}

type BlockState =
  | { kind: 'text' }
  | { kind: 'tool'; toolIndex: number; startInput: unknown; argsSeen: boolean }
  | { kind: 'thinking'; text: string }
  | { kind: 'other' };

export class AnthropicStreamConverter {
  private id = '';
  private model: string;
  private usage: AnthropicUsage = {};
  private readonly blocks = new Map<number, BlockState>();
  private toolCalls = 0;
  private started = false;
  private finish: FinishReason | null = null;
  private stopped = false;

  constructor(private readonly ctx: StreamContext) {
    this.model = ctx.model;
  }

  /** Chunks for one stream event. */
  push(event: AnthropicStreamEvent): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = [];
    switch (event.type) {
      case 'message_start':
        this.onMessageStart(event.message, out);
        break;
      case 'content_block_start':
        this.start(out);
        this.onBlockStart(event.index, event.content_block, out);
        break;
      case 'content_block_delta':
        this.start(out);
        this.onBlockDelta(event.index, event.delta, out);
        break;
      case 'content_block_stop':
        this.onBlockStop(event.index, out);
        break;
      case 'message_delta':
        this.start(out);
        this.mergeUsage(event.usage);
        if (this.finish === null) {
          this.finish = mapStopReason(event.delta?.stop_reason);
          out.push(this.chunk({}, this.finish));
        }
        break;
      case 'message_stop':
        this.stopped = true;
        break;
      case 'ping':
        break;
      case 'error': {
        const status = statusForErrorType(event.error?.type);
        const body = mapAnthropicError(status, event, 'upstream stream failed');
        throw new UpstreamError(status, body.error.message, body, 'http');
      }
      default:
        // Event types added to the API later are skipped, as the reference advises.
        break;
    }
    return out;
  }

  /** After the last event: the finish chunk if message_delta never came, then the usage chunk. */
  end(): ChatCompletionChunk[] {
    if (!this.stopped) {
      throw new UpstreamError(null, 'upstream stream ended before message_stop', null, 'protocol');
    }
    const out: ChatCompletionChunk[] = [];
    this.start(out);
    if (this.finish === null) {
      this.finish = this.toolCalls > 0 ? 'tool_calls' : 'stop';
      out.push(this.chunk({}, this.finish));
    }
    out.push({ ...this.envelope(), choices: [], usage: mapUsage(this.usage) });
    return out;
  }

  private onMessageStart(message: AnthropicResponse | undefined, out: ChatCompletionChunk[]): void {
    if (typeof message?.id === 'string') this.id = message.id;
    if (typeof message?.model === 'string' && message.model.length > 0) this.model = message.model;
    this.mergeUsage(message?.usage);
    this.start(out);
  }

  private onBlockStart(index: number, block: AnthropicResponseBlock, out: ChatCompletionChunk[]): void {
    const b = block as Record<string, unknown>;
    switch (b.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text' });
        if (typeof b.text === 'string' && b.text.length > 0) out.push(this.chunk({ content: b.text }));
        break;
      case 'tool_use': {
        const toolIndex = this.toolCalls++;
        this.blocks.set(index, { kind: 'tool', toolIndex, startInput: b.input, argsSeen: false });
        out.push(
          this.chunk({
            tool_calls: [
              {
                index: toolIndex,
                id: String(b.id),
                type: 'function',
                function: { name: String(b.name), arguments: '' },
              },
            ],
          }),
        );
        break;
      }
      case 'thinking': {
        const text = typeof b.thinking === 'string' ? b.thinking : '';
        this.blocks.set(index, { kind: 'thinking', text });
        if (text.length > 0) out.push(this.chunk({ reasoning_content: text }));
        break;
      }
      case 'redacted_thinking':
        this.blocks.set(index, { kind: 'other' });
        if (typeof b.data === 'string') {
          out.push(this.chunk({ thinking_blocks: [{ type: 'redacted_thinking', data: b.data }] }));
        }
        break;
      default:
        this.blocks.set(index, { kind: 'other' });
        break;
    }
  }

  private onBlockDelta(index: number, delta: AnthropicStreamDelta, out: ChatCompletionChunk[]): void {
    const block = this.blocks.get(index);
    const d = delta as Record<string, unknown>;
    switch (d.type) {
      case 'text_delta':
        if (typeof d.text === 'string' && d.text.length > 0) out.push(this.chunk({ content: d.text }));
        break;
      case 'input_json_delta':
        if (block?.kind === 'tool' && typeof d.partial_json === 'string' && d.partial_json.length > 0) {
          block.argsSeen = true;
          out.push(
            this.chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: d.partial_json } }] }),
          );
        }
        break;
      case 'thinking_delta':
        if (typeof d.thinking === 'string' && d.thinking.length > 0) {
          if (block?.kind === 'thinking') block.text += d.thinking;
          out.push(this.chunk({ reasoning_content: d.thinking }));
        }
        break;
      case 'signature_delta':
        if (typeof d.signature === 'string') {
          const thinking = block?.kind === 'thinking' ? block.text : '';
          out.push(this.chunk({ thinking_blocks: [{ type: 'thinking', thinking, signature: d.signature }] }));
        }
        break;
      default:
        // citations_delta and later delta types carry nothing an OpenAI client reads.
        break;
    }
  }

  /** A tool_use whose input came whole in content_block_start (no deltas) still gets its arguments. */
  private onBlockStop(index: number, out: ChatCompletionChunk[]): void {
    const block = this.blocks.get(index);
    if (block?.kind !== 'tool' || block.argsSeen) return;
    const input = block.startInput;
    if (input && typeof input === 'object' && Object.keys(input).length > 0) {
      block.argsSeen = true;
      out.push(
        this.chunk({
          tool_calls: [{ index: block.toolIndex, function: { arguments: JSON.stringify(input) } }],
        }),
      );
    }
  }

  /** message_delta's usage is cumulative: a field it carries replaces message_start's. */
  private mergeUsage(usage: AnthropicUsage | undefined): void {
    if (!usage) return;
    for (const key of [
      'input_tokens',
      'output_tokens',
      'cache_creation_input_tokens',
      'cache_read_input_tokens',
    ] as const) {
      const v = usage[key];
      if (typeof v === 'number') this.usage[key] = v;
    }
  }

  private start(out: ChatCompletionChunk[]): void {
    if (this.started) return;
    this.started = true;
    out.push(this.chunk({ role: 'assistant', content: '' }));
  }

  private envelope(): Omit<ChatCompletionChunk, 'choices'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.model };
  }

  private chunk(delta: ChatCompletionChunkDelta, finish: FinishReason | null = null): ChatCompletionChunk {
    return { ...this.envelope(), choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] };
  }
}

/** Parse one SSE `data:` payload into a stream event. */
export function parseStreamEvent(data: string): AnthropicStreamEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new UpstreamError(200, 'upstream stream sent an event that is not JSON', null, 'protocol');
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    typeof (parsed as { type?: unknown }).type !== 'string'
  ) {
    throw new UpstreamError(200, 'upstream stream sent an event without a type', null, 'protocol');
  }
  return parsed as AnthropicStreamEvent;
}

/** The whole conversion: SSE bytes in, OpenAI chunks out. */
export async function* anthropicStreamChunks(
  body: AsyncIterable<Uint8Array | string>,
  ctx: StreamContext,
): AsyncGenerator<ChatCompletionChunk> {
  const converter = new AnthropicStreamConverter(ctx);
  for await (const event of parseSSE(body)) {
    if (event.data.trim() === '') continue;
    yield* converter.push(parseStreamEvent(event.data));
  }
  yield* converter.end();
}

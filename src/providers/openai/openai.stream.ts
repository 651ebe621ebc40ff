/**
 * OpenAI chat stream → chunks. The wire format is already OpenAI's: SSE `data:` events carrying
 * chat.completion.chunk JSON, ended by `data: [DONE]`; the shared SSE reader does the bytes.
 */
import type { ChatCompletionChunk } from '../../common/openai.types';
import { parseJsonEvents } from '../../common/sse/json-events';

/** The chunks of one stream; `keep` may leave platform annotation events out. */
export async function* openaiStreamChunks(
  body: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  keep?: (chunk: ChatCompletionChunk) => boolean,
): AsyncGenerator<ChatCompletionChunk> {
  for await (const e of parseJsonEvents<ChatCompletionChunk>(body)) {
    if (!keep || keep(e.data)) yield e.data;
  }
}

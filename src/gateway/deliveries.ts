/**
 * Writing an upstream's answer to the client. Pass-through deliveries forward the upstream's
 * bytes untouched (only the usage chunk the client did not ask for is held back); adapter
 * deliveries serialize the OpenAI objects the adapter produced. NestJS is not on this path.
 */
import { performance } from 'node:perf_hooks';
import type { ChatCompletionChunk } from '../common/openai.types';
import { SSE_DONE } from '../common/sse/encode';
import { SseEventSplitter, stripUsageForClient } from '../common/sse/event-splitter';
import type { CallState } from './call-state';
import type { ClientSink } from './client-sink';

export const OVERHEAD_HEADER = 'x-gateway-overhead-ms';
export const TRACE_ID_HEADER = 'x-gateway-trace-id';

export type Delivery = (sink: ClientSink) => Promise<void>;

function jsonHeaders(state: CallState): Record<string, string> {
  return {
    'content-type': 'application/json',
    [OVERHEAD_HEADER]: state.markOverhead(),
    [TRACE_ID_HEADER]: state.id,
  };
}

function sseHeaders(state: CallState): Record<string, string> {
  return {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    [OVERHEAD_HEADER]: state.markOverhead(),
    [TRACE_ID_HEADER]: state.id,
  };
}

export function rawJsonDelivery(state: CallState, bytes: Buffer): Delivery {
  return async (sink) => {
    sink.writeHead(200, jsonHeaders(state));
    sink.end(bytes);
    state.response = { kind: 'raw-json', bytes };
  };
}

export function jsonDelivery(state: CallState, body: unknown): Delivery {
  return async (sink) => {
    sink.writeHead(200, jsonHeaders(state));
    sink.end(JSON.stringify(body));
    state.response = { kind: 'json', body };
  };
}

type Step<T> = IteratorResult<T, unknown>;

/** Forwards an OpenAI SSE body untouched; `first` is the chunk that ended the timeout. */
export function rawSseDelivery(state: CallState, first: Step<Buffer>, rest: AsyncIterator<Buffer>): Delivery {
  return async (sink) => {
    sink.writeHead(200, sseHeaders(state));
    state.ttftMs = performance.now() - state.t0;
    const chunks: Buffer[] = [];
    state.response = { kind: 'sse', chunks };
    const splitter = state.wantUsage ? null : new SseEventSplitter();
    for (let step = first; step.done !== true; step = await rest.next()) {
      const buf = step.value;
      chunks.push(buf);
      if (!splitter) {
        await sink.write(buf);
        continue;
      }
      for (const event of splitter.push(buf)) {
        const out = stripUsageForClient(event);
        if (out) await sink.write(out);
      }
    }
    const tail = splitter?.flush();
    if (tail) {
      const out = stripUsageForClient(tail);
      if (out) await sink.write(out);
    }
    sink.end();
  };
}

/** Serializes adapter chunks; drops usage the client did not ask for; applies a chunk map. */
export function chunkDelivery(
  state: CallState,
  first: Step<ChatCompletionChunk>,
  rest: AsyncIterator<ChatCompletionChunk>,
  map: ((c: ChatCompletionChunk) => ChatCompletionChunk) | null,
): Delivery {
  return async (sink) => {
    sink.writeHead(200, sseHeaders(state));
    state.ttftMs = performance.now() - state.t0;
    const chunks: ChatCompletionChunk[] = [];
    state.response = { kind: 'chunks', chunks };
    for (let step = first; step.done !== true; step = await rest.next()) {
      const chunk = map ? map(step.value) : step.value;
      chunks.push(chunk);
      if (!state.wantUsage) {
        if (chunk.choices.length === 0 && chunk.usage) continue;
        if (chunk.usage !== undefined) {
          const { usage: _usage, ...withoutUsage } = chunk;
          await sink.write(`data: ${JSON.stringify(withoutUsage)}\n\n`);
          continue;
        }
      }
      await sink.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    sink.end(SSE_DONE);
  };
}

/** Collects an undici body into one Buffer. */
export async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body) {
    parts.push(part);
    size += part.length;
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
}

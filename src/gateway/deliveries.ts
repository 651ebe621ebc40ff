/**
 * Writing an upstream's answer to the client. Pass-through deliveries forward the upstream's
 * bytes untouched (only the usage chunk the client did not ask for is held back); adapter
 * deliveries serialize the OpenAI objects the adapter produced. NestJS is not on this path.
 */
import { performance } from 'node:perf_hooks';
import { ForwardBody, type PassthroughBody } from '../common/forward';
import type { ChatCompletionChunk } from '../common/openai.types';
import { SSE_DONE } from '../common/sse/encode';
import { isUsageOnlyEvent, SseEventSplitter } from '../common/sse/event-splitter';
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
    const headers = jsonHeaders(state);
    headers['content-length'] = String(bytes.length);
    sink.writeHead(200, headers);
    sink.end(bytes);
    state.response = { kind: 'raw-json', bytes };
  };
}

export function jsonDelivery(state: CallState, body: unknown): Delivery {
  return async (sink) => {
    const text = JSON.stringify(body);
    const headers = jsonHeaders(state);
    headers['content-length'] = String(Buffer.byteLength(text));
    sink.writeHead(200, headers);
    sink.end(text);
    state.response = { kind: 'json', body };
  };
}

type Step<T> = IteratorResult<T, unknown>;

/** Bytes found in every usage object's token counts (`"prompt_tokens"`, `"total_tokens"`…). */
const TOKENS_NEEDLE = Buffer.from('_tokens"');
const LFLF = Buffer.from('\n\n');

/** The read ends with a whole event (a blank line, LF or CRLF). */
function endsWithEvent(buf: Buffer): boolean {
  const n = buf.length;
  if (n < 2 || buf[n - 1] !== 0x0a) return false;
  return buf[n - 2] === 0x0a || (n >= 4 && buf[n - 2] === 0x0d && buf[n - 3] === 0x0a && buf[n - 4] === 0x0d);
}

/**
 * A read that starts and ends on event boundaries, as the client should get it: the whole read
 * when no event in it can carry a usage object; else the read without its usage-only events, as
 * slices of it. Only the events around a usage object are looked at. Null when an event that
 * must be looked at uses CR line ends: the caller then cuts the read into events.
 */
function withoutUsageEvents(buf: Buffer, found: { event: Buffer | null }): Buffer[] | null {
  let pos = buf.indexOf(TOKENS_NEEDLE);
  if (pos < 0) return [buf];
  const kept: Buffer[] = [];
  let from = 0;
  while (pos >= 0) {
    const before = buf.lastIndexOf(LFLF, pos);
    const start = before < from ? from : before + 2;
    const after = buf.indexOf(LFLF, pos);
    if (after < 0) return null;
    const end = after + 2;
    const event = buf.subarray(start, end);
    if (event.includes(0x0d)) return null;
    if (isUsageOnlyEvent(event)) {
      if (start > from) kept.push(buf.subarray(from, start));
      from = end;
      found.event = event;
    }
    pos = buf.indexOf(TOKENS_NEEDLE, end);
  }
  if (from < buf.length) kept.push(from === 0 ? buf : buf.subarray(from));
  return kept;
}

/**
 * Forwards an OpenAI SSE body untouched; `first` is the chunk that ended the timeout. When the
 * gateway asked for usage on the client's behalf, only the usage-only event is held back: reads
 * that begin and end on event boundaries are edited in place (most reads go out whole), others
 * are cut into events by the splitter; one write per read. The held-back event is kept on the
 * call for its usage.
 */
export function rawSseDelivery(state: CallState, first: Step<Buffer>, rest: AsyncIterator<Buffer>): Delivery {
  return async (sink) => {
    sink.writeHead(200, sseHeaders(state));
    state.ttftMs = performance.now() - state.t0;
    const chunks: Buffer[] = [];
    state.response = { kind: 'sse', chunks };
    const splitter = state.wantUsage ? null : new SseEventSplitter();
    const found = { event: null as Buffer | null };
    for (let step = first; step.done !== true; step = await rest.next()) {
      const buf = step.value;
      chunks.push(buf);
      // A write returns a promise only while the client is not keeping up: awaited only then, as
      // awaiting anything else still costs a turn of the microtask queue per read.
      let wrote: Promise<void> | void;
      if (!splitter) wrote = sink.write(buf);
      else {
        const kept = splitter.idle && endsWithEvent(buf) ? withoutUsageEvents(buf, found) : null;
        wrote = kept ? writeAll(sink, kept) : writeEvents(sink, splitter.push(buf), found);
      }
      if (wrote) await wrote;
    }
    const tail = splitter?.flush();
    if (tail) {
      const wrote = writeEvents(sink, [tail], found);
      if (wrote) await wrote;
    }
    if (found.event) state.usageEvent = found.event;
    sink.end();
  };
}

function writeAll(sink: ClientSink, parts: Buffer[]): Promise<void> | void {
  if (parts.length === 1) return sink.write(parts[0] as Buffer);
  if (parts.length > 1) return sink.write(Buffer.concat(parts));
}

/** Writes consecutive events (views of one buffer) as one slice unless one must be dropped. */
function writeEvents(
  sink: ClientSink,
  events: Buffer[],
  found: { event: Buffer | null },
): Promise<void> | void {
  if (events.length === 0) return;
  if (!events.some(isUsageOnlyEvent)) {
    const a = events[0] as Buffer;
    const z = events[events.length - 1] as Buffer;
    const contiguous = a.buffer === z.buffer && z.byteOffset >= a.byteOffset;
    return sink.write(
      contiguous
        ? Buffer.from(a.buffer, a.byteOffset, z.byteOffset + z.length - a.byteOffset)
        : Buffer.concat(events),
    );
  }
  const kept: Buffer[] = [];
  for (const e of events) {
    if (isUsageOnlyEvent(e)) found.event = e;
    else kept.push(e);
  }
  if (kept.length > 0) return sink.write(Buffer.concat(kept));
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
      let wrote: Promise<void> | void;
      if (!state.wantUsage && chunk.usage !== undefined) {
        if (chunk.choices.length === 0 && chunk.usage) continue;
        const { usage: _usage, ...withoutUsage } = chunk;
        wrote = sink.write(`data: ${JSON.stringify(withoutUsage)}\n\n`);
      } else wrote = sink.write(`data: ${JSON.stringify(chunk)}\n\n`);
      if (wrote) await wrote;
    }
    sink.end(SSE_DONE);
  };
}

/** A reply body as one Buffer: read whole from a ForwardBody, else by iteration. */
export function collect(body: PassthroughBody): Promise<Buffer> {
  return body instanceof ForwardBody ? body.all() : collectIterable(body);
}

async function collectIterable(body: PassthroughBody): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part);
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

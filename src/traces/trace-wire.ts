/**
 * CallRecords on their way to the trace worker: one message per batch, every byte field (the
 * request as received, raw JSON replies, raw SSE streams) copied once into a single arena that is
 * transferred, not cloned. The parsed request is not sent when its bytes are; the upstream request
 * travels as the top-level keys in which it differs from the request. Only small metadata is
 * structured-cloned.
 */
import type { CallRecord, RecordedResponse } from '../gateway/call-record';

/** Offset and length of a byte field inside the batch's arena. */
type Span = readonly [number, number];

type WireRequest = { b: Span } | { v: unknown };
type WireUpstream = { same: true } | { patch: Record<string, unknown>; del: string[] } | { v: unknown };
type WireResponse =
  | { kind: 'none' }
  | { kind: 'json'; body: unknown }
  | { kind: 'raw-json'; b: Span }
  | { kind: 'sse'; b: Span }
  | { kind: 'chunks'; chunks: unknown[] };

type Meta = Omit<CallRecord, 'request' | 'requestBytes' | 'upstreamRequest' | 'response'>;

export interface WireRecord {
  meta: Meta;
  /** A caller-given turn number (ingest). */
  turn: number | null;
  req: WireRequest;
  up: WireUpstream;
  res: WireResponse;
}

export interface WireBatch {
  seq: number;
  /** Sent again after a worker restart: some of its traces may already be stored. */
  replay: boolean;
  storeBodies: boolean;
  jsonl: string | null;
  records: WireRecord[];
  arena: ArrayBuffer;
}

export interface QueuedRecord {
  rec: CallRecord;
  turn: number | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function byteSize(q: QueuedRecord): number {
  const r = q.rec;
  let n = r.requestBytes ? r.requestBytes.length : 0;
  if (r.response.kind === 'raw-json') n += r.response.bytes.length;
  else if (r.response.kind === 'sse') for (const c of r.response.chunks) n += c.length;
  return n;
}

/** The upstream request relative to the request: the same object, a top-level patch, or whole. */
function upstreamOf(request: unknown, upstream: unknown): WireUpstream {
  if (upstream === request) return { same: true };
  if (!isObject(request) || !isObject(upstream)) return { v: upstream };
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(upstream)) if (upstream[k] !== request[k] || !(k in request)) patch[k] = upstream[k];
  const del: string[] = [];
  for (const k of Object.keys(request)) if (!(k in upstream)) del.push(k);
  return { patch, del };
}

/** One message for the worker (and the arena to transfer with it). */
export function encodeBatch(
  items: readonly QueuedRecord[],
  seq: number,
  opts: { replay: boolean; storeBodies: boolean; jsonl: string | null },
): WireBatch {
  let total = 0;
  for (const q of items) total += byteSize(q);
  const arena = Buffer.allocUnsafeSlow(Math.max(total, 1));
  let at = 0;
  const put = (b: Buffer): Span => {
    b.copy(arena, at);
    const span: Span = [at, b.length];
    at += b.length;
    return span;
  };
  const records = items.map(({ rec, turn }): WireRecord => {
    const { request, requestBytes, upstreamRequest, response, ...meta } = rec;
    const req: WireRequest = requestBytes && request !== null ? { b: put(requestBytes) } : { v: request };
    let res: WireResponse;
    switch (response.kind) {
      case 'raw-json':
        res = { kind: 'raw-json', b: put(response.bytes) };
        break;
      case 'sse': {
        const start = at;
        for (const c of response.chunks) put(c);
        res = { kind: 'sse', b: [start, at - start] };
        break;
      }
      case 'none':
      case 'json':
      case 'chunks':
        res = response;
    }
    return { meta, turn, req, up: upstreamOf(request, upstreamRequest), res };
  });
  return { seq, ...opts, records, arena: arena.buffer };
}

function parseBytes(b: Buffer): unknown {
  const text = b.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The worker's side: CallRecords again (bytes of the request parsed, upstream request rebuilt). */
export function decodeBatch(batch: WireBatch): QueuedRecord[] {
  const arena = Buffer.from(batch.arena);
  const slice = (s: Span): Buffer => arena.subarray(s[0], s[0] + s[1]);
  return batch.records.map((w) => {
    const request = 'b' in w.req ? parseBytes(slice(w.req.b)) : w.req.v;
    let upstreamRequest: unknown;
    if ('same' in w.up) upstreamRequest = request;
    else if ('patch' in w.up) {
      const up: Record<string, unknown> = isObject(request) ? { ...request } : {};
      for (const k of w.up.del) delete up[k];
      upstreamRequest = Object.assign(up, w.up.patch);
    } else upstreamRequest = w.up.v;
    let response: RecordedResponse;
    switch (w.res.kind) {
      case 'raw-json':
        response = { kind: 'raw-json', bytes: slice(w.res.b) };
        break;
      case 'sse':
        response = { kind: 'sse', chunks: [slice(w.res.b)] };
        break;
      case 'none':
      case 'json':
        response = w.res;
        break;
      case 'chunks':
        response = w.res as RecordedResponse;
    }
    const rec: CallRecord = { ...w.meta, request, requestBytes: null, upstreamRequest, response };
    return { rec, turn: w.turn };
  });
}

/**
 * CallRecords on their way to the trace worker, packed so the main thread does as little as it
 * can: one message per batch holding the records' primitive fields (a fixed number of slots per
 * record, then its attempts) written as tagged bytes, and one arena with every byte field (the
 * request as received, raw JSON replies, raw SSE streams). Nothing of a record stays on the JS
 * heap while its batch gathers, so nothing of it survives a scavenge into the old generation. Cloning that is a few string copies and one
 * memcpy, far cheaper than cloning the records' object graphs, and the writer keeps only this
 * packed form (not the records) until the worker reports them stored. The parsed request is not
 * sent when its bytes are; the upstream request travels as the top-level keys in which it differs
 * from the request. Rare structured values (adapters' parsed replies, metadata) go as JSON text.
 */
import { deserialize, serialize } from 'node:v8';
import type { AttemptRecord, CallRecord, CallStatus, RecordedResponse } from '../gateway/call-record';

export interface QueuedRecord {
  rec: CallRecord;
  /** A caller-given turn number (ingest). */
  turn: number | null;
}

/** A batch as sent (and kept by the writer until stored). */
export interface WireBatch {
  seq: number;
  /** Sent again after a worker restart: some of its traces may already be stored. */
  replay: boolean;
  storeBodies: boolean;
  jsonl: string | null;
  count: number;
  /** Each record's SLOTS values, then ATTEMPT_SLOTS values per attempt (see ValueWriter). */
  values: Uint8Array;
  arena: Uint8Array;
}

/**
 * A batch as the writer keeps it until the worker reports it stored: serialized once into one
 * buffer, so that a backlog (a worker that falls behind) is bytes outside the JS heap, which the
 * garbage collector does not walk, rather than arrays of strings in the old generation. Posting
 * it is one copy of those bytes.
 */
export interface PackedBatch {
  seq: number;
  count: number;
  bytes: Uint8Array;
}

export function packBatch(batch: WireBatch): PackedBatch {
  return { seq: batch.seq, count: batch.count, bytes: serialize(batch) };
}

/** The worker's side of packBatch; `replay` marks a batch sent again after a worker restart. */
export function unpackBatch(bytes: Uint8Array, replay: boolean): WireBatch {
  const batch = deserialize(bytes) as WireBatch;
  batch.replay = replay;
  return batch;
}

/** Slots per record in `slots`. */
const SLOTS = 27;
const ATTEMPT_SLOTS = 5;

const enum Req {
  Bytes = 0,
  Json = 1,
}
const enum Up {
  Same = 0,
  Patch = 1,
  Json = 2,
  /** The bytes sent (pass-through): in the arena after the request's. */
  Bytes = 3,
}
const enum Res {
  None = 0,
  Json = 1,
  RawJson = 2,
  Sse = 3,
  Chunks = 4,
}

const enum Tag {
  Null = 0,
  True = 1,
  False = 2,
  Num = 3,
  Str = 4,
}

/** Primitive values (strings, numbers, booleans, null) one after another, each behind a tag byte. */
class ValueWriter {
  private buf: Buffer;
  at = 0;

  constructor(initialBytes: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(256, initialBytes));
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  value(v: string | number | boolean | null | undefined): void {
    if (typeof v === 'string') {
      const len = v.length;
      this.room(5 + len * 3);
      const buf = this.buf;
      const start = this.at + 5;
      // Short ASCII strings (ids, names, statuses: most values) are copied here, which is cheaper
      // than a call into the encoder; anything else is encoded as UTF-8 by Buffer.write.
      let n = len <= 64 ? len : -1;
      for (let i = 0; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c > 0x7f) {
          n = -1;
          break;
        }
        buf[start + i] = c;
      }
      if (n < 0) n = buf.write(v, start, 'utf8');
      buf[this.at] = Tag.Str;
      buf.writeUInt32LE(n, this.at + 1);
      this.at = start + n;
    } else if (typeof v === 'number') {
      this.room(9);
      this.buf[this.at] = Tag.Num;
      this.buf.writeDoubleLE(v, this.at + 1);
      this.at += 9;
    } else {
      this.room(1);
      this.buf[this.at++] = v === true ? Tag.True : v === false ? Tag.False : Tag.Null;
    }
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }
}

/** The values a ValueWriter wrote, in order. */
export function readValues(bytes: Uint8Array): Array<string | number | boolean | null> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Array<string | number | boolean | null> = [];
  let at = 0;
  while (at < buf.length) {
    const tag = buf[at] as Tag;
    if (tag === Tag.Str) {
      const n = buf.readUInt32LE(at + 1);
      out.push(buf.toString('utf8', at + 5, at + 5 + n));
      at += 5 + n;
    } else if (tag === Tag.Num) {
      out.push(buf.readDoubleLE(at + 1));
      at += 9;
    } else {
      out.push(tag === Tag.True ? true : tag === Tag.False ? false : null);
      at += 1;
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function byteSize(r: CallRecord): number {
  let n = r.requestBytes && r.request !== null ? r.requestBytes.length : 0;
  if (Buffer.isBuffer(r.upstreamRequest)) n += r.upstreamRequest.length;
  if (r.response.kind === 'raw-json') n += r.response.bytes.length;
  else if (r.response.kind === 'sse') for (const c of r.response.chunks) n += c.length;
  return n;
}

function json(v: unknown): string {
  return JSON.stringify(v === undefined ? null : v);
}

/** The upstream request relative to the request: the same object, a top-level patch, or whole. */
function upstreamOf(request: unknown, upstream: unknown): [Up, string | null] {
  if (upstream === request) return [Up.Same, null];
  if (Buffer.isBuffer(upstream)) return [Up.Bytes, null];
  if (!isObject(request) || !isObject(upstream)) return [Up.Json, json(upstream)];
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(upstream)) if (upstream[k] !== request[k] || !(k in request)) patch[k] = upstream[k];
  const del: string[] = [];
  for (const k of Object.keys(request)) if (!(k in upstream)) del.push(k);
  return [Up.Patch, json(del.length ? { patch, del } : { patch })];
}

/**
 * Packs records for the worker as they are recorded, so that a record's objects (the parsed
 * request, the response's reads) are let go at once instead of surviving, and being promoted by,
 * the garbage collections until the next batch leaves. A record that cannot be packed (a value
 * JSON cannot hold) is left out and reported through `onSkip`.
 */
export class BatchBuilder {
  private readonly values: ValueWriter;
  private arena: Buffer;
  private at = 0;
  count = 0;

  constructor(initialBytes = 32 * 1024) {
    this.arena = Buffer.allocUnsafeSlow(Math.max(1024, initialBytes));
    this.values = new ValueWriter(Math.max(1024, initialBytes >> 2));
  }

  add({ rec: r, turn }: QueuedRecord, onSkip: (rec: CallRecord, err: unknown) => void = () => undefined): boolean {
    const mark = { values: this.values.at, at: this.at };
    try {
      this.reserve(byteSize(r));
      let reqKind: Req;
      let reqValue: number | string;
      if (r.requestBytes && r.request !== null) {
        reqKind = Req.Bytes;
        reqValue = this.put(r.requestBytes);
      } else {
        reqKind = Req.Json;
        reqValue = json(r.request);
      }
      const [upKind, patch] = upstreamOf(r.request, r.upstreamRequest);
      const upValue = upKind === Up.Bytes ? this.put(r.upstreamRequest as Buffer) : patch;
      let resKind: Res;
      let resValue: number | string | null = null;
      const res = r.response;
      switch (res.kind) {
        case 'none':
          resKind = Res.None;
          break;
        case 'json':
          resKind = Res.Json;
          resValue = json(res.body);
          break;
        case 'raw-json':
          resKind = Res.RawJson;
          resValue = this.put(res.bytes);
          break;
        case 'sse': {
          resKind = Res.Sse;
          resValue = 0;
          for (const c of res.chunks) resValue += this.put(c);
          break;
        }
        case 'chunks':
          resKind = Res.Chunks;
          resValue = json(res.chunks);
          break;
      }
      // Everything that can throw (json) is done before the first value is written.
      const metadata = r.metadata === null ? null : json(r.metadata);
      const usage = r.usage === null ? null : json(r.usage);
      const slots = [
        r.id,
        r.startedAt,
        r.endpoint,
        r.model,
        r.provider,
        r.upstreamModel,
        r.stream,
        r.keyId,
        r.sessionId,
        metadata,
        r.status,
        r.httpStatus,
        r.error,
        r.latencyMs,
        r.ttftMs,
        r.overheadMs,
        usage,
        r.replayOf,
        r.sessionOf,
        turn,
        r.attempts.length,
        reqKind,
        reqValue,
        upKind,
        upValue,
        resKind,
        resValue,
      ] as const;
      const w = this.values;
      for (const v of slots) w.value(v);
      for (const a of r.attempts) {
        w.value(a.provider);
        w.value(a.model);
        w.value(a.status);
        w.value(a.error);
        w.value(a.latency_ms);
      }
      this.count++;
      return true;
    } catch (err) {
      this.values.at = mark.values;
      this.at = mark.at;
      onSkip(r, err);
      return false;
    }
  }

  /** The batch so far (the builder is not used after this). */
  take(seq: number, opts: { replay: boolean; storeBodies: boolean; jsonl: string | null }): WireBatch {
    return { seq, ...opts, count: this.count, values: this.values.bytes(), arena: this.arena.subarray(0, this.at) };
  }

  /** Copies bytes into the arena (space reserved by `add`); returns how many. */
  private put(bytes: Uint8Array): number {
    this.arena.set(bytes, this.at);
    this.at += bytes.length;
    return bytes.length;
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.arena.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.arena.length * 2, this.at + bytes));
    this.arena.copy(grown, 0, 0, this.at);
    this.arena = grown;
  }
}

/** Packs records for the worker in one go (see BatchBuilder). */
export function encodeBatch(
  items: readonly QueuedRecord[],
  seq: number,
  opts: { replay: boolean; storeBodies: boolean; jsonl: string | null },
  onSkip: (rec: CallRecord, err: unknown) => void = () => undefined,
): WireBatch {
  let total = 0;
  for (const q of items) total += byteSize(q.rec);
  const builder = new BatchBuilder(total);
  for (const q of items) builder.add(q, onSkip);
  return builder.take(seq, opts);
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null ? null : (v as string));
const numOrNull = (v: unknown): number | null => (v === null ? null : (v as number));

/** The worker's side: CallRecords again (request bytes parsed, upstream request rebuilt). */
export function decodeBatch(batch: WireBatch): QueuedRecord[] {
  const arena = Buffer.from(batch.arena.buffer, batch.arena.byteOffset, batch.arena.byteLength);
  const s = readValues(batch.values);
  const out: QueuedRecord[] = [];
  let at = 0;
  let o = 0;
  for (let i = 0; i < batch.count; i++, o += SLOTS + ATTEMPT_SLOTS * (s[o + 20] as number)) {
    const take = (len: number): Buffer => {
      const b = arena.subarray(at, at + len);
      at += len;
      return b;
    };
    const request =
      (s[o + 21] as Req) === Req.Bytes ? parseText(take(s[o + 22] as number).toString('utf8')) : parseText(str(s[o + 22]));
    const upKind = s[o + 23] as Up;
    const upValue = s[o + 24] as string | number | null;
    const resKind = s[o + 25] as Res;
    const resValue = s[o + 26] as number | string | null;
    let upstreamRequest: unknown;
    if (upKind === Up.Same) upstreamRequest = request;
    else if (upKind === Up.Bytes) upstreamRequest = parseText(take(upValue as number).toString('utf8'));
    else if (upKind === Up.Patch) {
      const { patch, del } = JSON.parse(str(upValue)) as { patch: Record<string, unknown>; del?: string[] };
      const up: Record<string, unknown> = isObject(request) ? { ...request } : {};
      for (const k of del ?? []) delete up[k];
      upstreamRequest = Object.assign(up, patch);
    } else upstreamRequest = parseText(str(upValue));
    let response: RecordedResponse;
    switch (resKind) {
      case Res.None:
        response = { kind: 'none' };
        break;
      case Res.Json:
        response = { kind: 'json', body: parseText(str(resValue)) };
        break;
      case Res.RawJson:
        response = { kind: 'raw-json', bytes: take(resValue as number) };
        break;
      case Res.Sse:
        response = { kind: 'sse', chunks: [take(resValue as number)] };
        break;
      case Res.Chunks:
        response = { kind: 'chunks', chunks: JSON.parse(str(resValue)) as never[] };
        break;
    }
    const attempts: AttemptRecord[] = [];
    for (let k = 0, a = o + SLOTS; k < (s[o + 20] as number); k++, a += ATTEMPT_SLOTS) {
      const t = s;
      attempts.push({
        provider: str(t[a]),
        model: str(t[a + 1]),
        status: numOrNull(t[a + 2]),
        error: strOrNull(t[a + 3]),
        latency_ms: t[a + 4] as number,
      });
    }
    const metadata = s[o + 9] === null ? null : (JSON.parse(str(s[o + 9])) as Record<string, unknown>);
    const usage = s[o + 16] === null ? null : (JSON.parse(str(s[o + 16])) as CallRecord['usage']);
    const rec: CallRecord = {
      id: str(s[o]),
      startedAt: s[o + 1] as number,
      endpoint: str(s[o + 2]),
      model: strOrNull(s[o + 3]),
      provider: strOrNull(s[o + 4]),
      upstreamModel: strOrNull(s[o + 5]),
      stream: s[o + 6] === true,
      keyId: strOrNull(s[o + 7]),
      sessionId: strOrNull(s[o + 8]),
      metadata,
      request,
      requestBytes: null,
      upstreamRequest,
      response,
      status: s[o + 10] as CallStatus,
      httpStatus: s[o + 11] as number,
      error: strOrNull(s[o + 12]),
      latencyMs: s[o + 13] as number,
      ttftMs: numOrNull(s[o + 14]),
      overheadMs: s[o + 15] as number,
      attempts,
      usage,
      replayOf: strOrNull(s[o + 17]),
      sessionOf: strOrNull(s[o + 18]),
    };
    out.push({ rec, turn: numOrNull(s[o + 19]) });
  }
  return out;
}

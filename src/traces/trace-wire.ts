/**
 * CallRecords on their way to the trace worker, packed so the main thread does as little as it
 * can: per batch, the records' primitive fields (a fixed number of slots per record, then its
 * attempts) written as tagged bytes, and one arena with every byte field (the request as
 * received, raw JSON replies, raw SSE streams), packed together into one buffer. Nothing of a
 * record stays on the JS heap while its batch gathers or waits to be stored, so nothing of it
 * survives a scavenge into the old generation. The parsed request is not sent when its bytes are;
 * the upstream request travels as the top-level keys in which it differs from the request. Rare
 * structured values (adapters' parsed replies, metadata) go as JSON text.
 */
import { jsonOrText } from '../common/json-text';
import type { TraceUsage } from '../common/openai.types';
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
 * A batch as the writer keeps it until the worker reports it stored: copied once into one buffer
 * of its exact size (a region of the shared ring, or a buffer of its own), so that a backlog (a
 * worker that falls behind) is bytes outside the JS heap, which the garbage collector does not
 * walk; the builder's buffers are then reused for the next batch.
 */
export interface PackedBatch {
  seq: number;
  count: number;
  bytes: Uint8Array;
}

/**
 * Header: seq (f64), count (u32), storeBodies (u8), jsonl length (u32, 0xffffffff: none), values
 * length (u32), padded to 24 bytes. The jsonl path, the values and the arena each start at a
 * multiple of ALIGN: a batch is copied into shared memory, and V8 copies into a SharedArrayBuffer
 * word by word only when source and destination are both word-aligned (byte by byte otherwise, about
 * three times slower: ~0.78 against ~0.23 µs for 3.5 KB here).
 */
const HEADER = 24;
const NO_JSONL = 0xffffffff;
/** Alignment of each section of a packed batch (and of a ring's regions: batch-ring.ts). */
export const ALIGN = 8;
/** `n` rounded up to a multiple of ALIGN. */
export const aligned = (n: number): number => (n + ALIGN - 1) & ~(ALIGN - 1);

/**
 * Packs a batch into a buffer of its exact size from `alloc` (shared memory: see batch-ring.ts),
 * or from the heap's outside (Buffer.allocUnsafeSlow) without one. The builder's buffers start at
 * offset 0 of their own memory, so with an aligned `out` every copy below is word-aligned.
 */
export function packBatch(batch: WireBatch, alloc?: (size: number) => Buffer): PackedBatch {
  const jsonl = batch.jsonl === null ? null : Buffer.from(batch.jsonl, 'utf8');
  const valuesAt = aligned(HEADER + (jsonl?.length ?? 0));
  const arenaAt = aligned(valuesAt + batch.values.byteLength);
  const size = arenaAt + batch.arena.byteLength;
  const out = alloc?.(size) ?? Buffer.allocUnsafeSlow(size);
  out.writeDoubleLE(batch.seq, 0);
  out.writeUInt32LE(batch.count, 8);
  out[12] = batch.storeBodies ? 1 : 0;
  out.writeUInt32LE(jsonl === null ? NO_JSONL : jsonl.length, 13);
  out.writeUInt32LE(batch.values.byteLength, 17);
  if (jsonl) jsonl.copy(out, HEADER);
  out.set(batch.values, valuesAt);
  out.set(batch.arena, arenaAt);
  return { seq: batch.seq, count: batch.count, bytes: out };
}

/** The worker's side of packBatch (views into `bytes`); `replay` marks a batch sent again after a worker restart. */
export function unpackBatch(bytes: Uint8Array, replay: boolean): WireBatch {
  const buf = bufferOf(bytes);
  if (buf.length < HEADER) throw new Error('trace batch too short');
  const jsonlLength = buf.readUInt32LE(13);
  const valuesLength = buf.readUInt32LE(17);
  let jsonl: string | null = null;
  let valuesAt = HEADER;
  if (jsonlLength !== NO_JSONL) {
    if (HEADER + jsonlLength > buf.length) throw new Error('trace batch truncated');
    jsonl = buf.toString('utf8', HEADER, HEADER + jsonlLength);
    valuesAt += jsonlLength;
  }
  valuesAt = aligned(valuesAt);
  const arenaAt = aligned(valuesAt + valuesLength);
  if (arenaAt > buf.length) throw new Error('trace batch truncated');
  return {
    seq: buf.readDoubleLE(0),
    count: buf.readUInt32LE(8),
    replay,
    storeBodies: buf[12] === 1,
    jsonl,
    values: buf.subarray(valuesAt, valuesAt + valuesLength),
    arena: buf.subarray(arenaAt),
  };
}

/**
 * Values per record before its attempts: 0 id, 1 startedAt, 2 endpoint, 3 model, 4 provider,
 * 5 upstreamModel, 6 stream, 7 keyId, 8 sessionId, 9 metadata (JSON), 10 status, 11 httpStatus,
 * 12 error, 13 latencyMs, 14 ttftMs, 15 overheadMs, 16 usage source (null: no usage), 17 replayOf,
 * 18 sessionOf, 19 turn, 20 attempt count, 21–26 request, upstream request and response (kind and
 * value each), 27–31 usage token counts.
 */
const SLOTS = 32;
const ATTEMPT_SLOTS = 5;
/** The attempt count's slot, and the first slot after the request, upstream and response pairs. */
const ATTEMPTS_SLOT = 20;
const BODIES_END = 27;

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

/** Reads what a ValueWriter wrote, one value at a time. */
class ValueReader {
  at = 0;

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  next(): string | number | boolean | null {
    const buf = this.buf;
    const at = this.at;
    const tag = buf[at] as Tag;
    if (tag === Tag.Str) {
      const n = buf.readUInt32LE(at + 1);
      this.at = at + 5 + n;
      return buf.toString('utf8', at + 5, at + 5 + n);
    }
    if (tag === Tag.Num) {
      this.at = at + 9;
      return buf.readDoubleLE(at + 1);
    }
    this.at = at + 1;
    return tag === Tag.True ? true : tag === Tag.False ? false : null;
  }

  /** Steps over `n` values without decoding their strings. */
  skip(n: number): void {
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) {
      const tag = buf[at] as Tag;
      at += tag === Tag.Str ? 5 + buf.readUInt32LE(at + 1) : tag === Tag.Num ? 9 : 1;
    }
    this.at = at;
  }
}

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The values a ValueWriter wrote, in order. */
export function readValues(bytes: Uint8Array): Array<string | number | boolean | null> {
  const r = new ValueReader(bufferOf(bytes));
  const out: Array<string | number | boolean | null> = [];
  while (!r.done) out.push(r.next());
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
    const valuesAt = this.values.at;
    const arenaAt = this.at;
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
      const u = r.usage;
      const w = this.values;
      w.value(r.id);
      w.value(r.startedAt);
      w.value(r.endpoint);
      w.value(r.model);
      w.value(r.provider);
      w.value(r.upstreamModel);
      w.value(r.stream);
      w.value(r.keyId);
      w.value(r.sessionId);
      w.value(metadata);
      w.value(r.status);
      w.value(r.httpStatus);
      w.value(r.error);
      w.value(r.latencyMs);
      w.value(r.ttftMs);
      w.value(r.overheadMs);
      w.value(u === null ? null : (u.source ?? 'provider'));
      w.value(r.replayOf);
      w.value(r.sessionOf);
      w.value(turn);
      w.value(r.attempts.length);
      w.value(reqKind);
      w.value(reqValue);
      w.value(upKind);
      w.value(upValue);
      w.value(resKind);
      w.value(resValue);
      w.value(u === null ? null : u.prompt_tokens);
      w.value(u === null ? null : u.completion_tokens);
      w.value(u === null ? null : u.total_tokens);
      w.value(u === null ? null : u.cached_tokens);
      w.value(u === null ? null : u.reasoning_tokens);
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
      this.values.at = valuesAt;
      this.at = arenaAt;
      onSkip(r, err);
      return false;
    }
  }

  /** Bytes packed so far. */
  get byteLength(): number {
    return this.at + this.values.at;
  }

  /** The batch so far, as views into this builder's buffers (valid until `reset`). */
  take(seq: number, opts: { replay: boolean; storeBodies: boolean; jsonl: string | null }): WireBatch {
    return { seq, ...opts, count: this.count, values: this.values.bytes(), arena: this.arena.subarray(0, this.at) };
  }

  /** Empties the builder for the next batch; its buffers are kept. */
  reset(): void {
    this.values.at = 0;
    this.at = 0;
    this.count = 0;
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

const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null ? null : (v as string));
const numOrNull = (v: unknown): number | null => (v === null ? null : (v as number));

/**
 * The body texts a decoded record was parsed from, when they parsed as JSON: a stored body that
 * redaction leaves as it is can be this text instead of the value serialized again.
 */
export interface SourceTexts {
  request: string | null;
  upstream: string | null;
}

export interface DecodedRecord extends QueuedRecord {
  texts: SourceTexts;
}

/**
 * The worker's side of a batch: each record's id at once, and the record itself (request bytes
 * parsed, upstream request rebuilt) only when asked for, so that records waiting for their
 * transaction are bytes rather than object graphs that the garbage collector copies and promotes.
 */
export class BatchReader {
  readonly count: number;
  readonly ids: string[] = [];
  private readonly values: Buffer;
  private readonly arena: Buffer;
  /** Where each record starts in `values` and in `arena`. */
  private readonly valueAt: number[] = [];
  private readonly arenaAt: number[] = [];

  constructor(batch: WireBatch) {
    this.values = bufferOf(batch.values);
    this.arena = bufferOf(batch.arena);
    const r = new ValueReader(this.values);
    let arenaAt = 0;
    let n = 0;
    for (; n < batch.count && !r.done; n++) {
      this.valueAt.push(r.at);
      this.arenaAt.push(arenaAt);
      this.ids.push(str(r.next()));
      r.skip(ATTEMPTS_SLOT - 1);
      const attempts = r.next() as number;
      const reqKind = r.next() as Req;
      if (reqKind === Req.Bytes) arenaAt += r.next() as number;
      else r.skip(1);
      const upKind = r.next() as Up;
      if (upKind === Up.Bytes) arenaAt += r.next() as number;
      else r.skip(1);
      const resKind = r.next() as Res;
      if (resKind === Res.RawJson || resKind === Res.Sse) arenaAt += r.next() as number;
      else r.skip(1);
      r.skip(SLOTS - BODIES_END + ATTEMPT_SLOTS * attempts);
    }
    this.count = n;
  }

  /** Record `i`, decoded now. */
  record(i: number): DecodedRecord {
    const r = new ValueReader(this.values);
    r.at = this.valueAt[i] as number;
    const s: Array<string | number | boolean | null> = [];
    for (let k = 0; k < SLOTS; k++) s.push(r.next());
    const attemptCount = s[ATTEMPTS_SLOT] as number;
    for (let k = 0; k < ATTEMPT_SLOTS * attemptCount; k++) s.push(r.next());
    const arena = this.arena;
    let at = this.arenaAt[i] as number;
    const take = (len: number): Buffer => {
      const b = arena.subarray(at, at + len);
      at += len;
      return b;
    };
    /** A body sent as its bytes: its value, and its text when that is JSON. */
    const body = (len: number): { value: unknown; text: string | null } => {
      const text = take(len).toString('utf8');
      const p = jsonOrText(text);
      return { value: p.value, text: p.json ? text : null };
    };
    const texts: SourceTexts = { request: null, upstream: null };
    let request: unknown;
    if ((s[21] as Req) === Req.Bytes) {
      const b = body(s[22] as number);
      request = b.value;
      texts.request = b.text;
    } else request = jsonOrText(str(s[22])).value;
    const upKind = s[23] as Up;
    const upValue = s[24] as string | number | null;
    const resKind = s[25] as Res;
    const resValue = s[26] as number | string | null;
    let upstreamRequest: unknown;
    if (upKind === Up.Same) {
      upstreamRequest = request;
      texts.upstream = texts.request;
    } else if (upKind === Up.Bytes) {
      const b = body(upValue as number);
      upstreamRequest = b.value;
      texts.upstream = b.text;
    } else if (upKind === Up.Patch) {
      const { patch, del } = JSON.parse(str(upValue)) as { patch: Record<string, unknown>; del?: string[] };
      const up: Record<string, unknown> = isObject(request) ? { ...request } : {};
      for (const k of del ?? []) delete up[k];
      upstreamRequest = Object.assign(up, patch);
    } else upstreamRequest = jsonOrText(str(upValue)).value;
    let response: RecordedResponse;
    switch (resKind) {
      case Res.None:
        response = { kind: 'none' };
        break;
      case Res.Json:
        response = { kind: 'json', body: jsonOrText(str(resValue)).value };
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
    for (let k = 0, a = SLOTS; k < attemptCount; k++, a += ATTEMPT_SLOTS) {
      attempts.push({
        provider: str(s[a]),
        model: str(s[a + 1]),
        status: numOrNull(s[a + 2]),
        error: strOrNull(s[a + 3]),
        latency_ms: s[a + 4] as number,
      });
    }
    const rec: CallRecord = {
      id: str(s[0]),
      startedAt: s[1] as number,
      endpoint: str(s[2]),
      model: strOrNull(s[3]),
      provider: strOrNull(s[4]),
      upstreamModel: strOrNull(s[5]),
      stream: s[6] === true,
      keyId: strOrNull(s[7]),
      sessionId: strOrNull(s[8]),
      metadata: s[9] === null ? null : (JSON.parse(str(s[9])) as Record<string, unknown>),
      request,
      requestBytes: null,
      upstreamRequest,
      response,
      status: s[10] as CallStatus,
      httpStatus: s[11] as number,
      error: strOrNull(s[12]),
      latencyMs: s[13] as number,
      ttftMs: numOrNull(s[14]),
      overheadMs: s[15] as number,
      attempts,
      usage:
        s[16] === null
          ? null
          : {
              prompt_tokens: (s[27] as number | null) ?? 0,
              completion_tokens: (s[28] as number | null) ?? 0,
              total_tokens: (s[29] as number | null) ?? 0,
              cached_tokens: (s[30] as number | null) ?? 0,
              reasoning_tokens: (s[31] as number | null) ?? 0,
              source: s[16] as TraceUsage['source'],
            },
      replayOf: strOrNull(s[17]),
      sessionOf: strOrNull(s[18]),
    };
    return { rec, turn: numOrNull(s[19]), texts };
  }
}

/** Every record of a batch, decoded (see BatchReader). */
export function decodeBatch(batch: WireBatch): DecodedRecord[] {
  const reader = new BatchReader(batch);
  return Array.from({ length: reader.count }, (_, i) => reader.record(i));
}

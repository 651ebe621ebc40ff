import { callRecord, sseBytes } from '../../test/support/call-records';
import { faultOf } from './trace-pipeline';
import { BatchRing } from './batch-ring';
import { ALIGN, BatchBuilder, BatchReader, decodeBatch, encodeBatch, packBatch, readValues, unpackBatch } from './trace-wire';

const opts = { replay: false, storeBodies: true, jsonl: null };

describe('trace wire', () => {
  it('sends the request as its bytes and the upstream request as what differs from it', () => {
    const request = { model: 'gpt-x', messages: [{ role: 'user', content: 'héllo' }], stream: true };
    const bytes = Buffer.from(JSON.stringify(request));
    const upstream = { ...request, model: 'up-model', stream_options: { include_usage: true } };
    const rec = callRecord(request.messages, null, {
      request,
      requestBytes: bytes,
      upstreamRequest: upstream,
      response: { kind: 'sse', chunks: sseBytes(['a', 'b']) },
    });
    const wire = encodeBatch([{ rec, turn: null }], 1, opts);
    // Only bytes and primitives travel: no parsed request, the upstream request as a patch.
    expect(readValues(wire.values).every((v) => v === null || typeof v !== 'object')).toBe(true);
    expect(readValues(wire.values)).not.toContain(JSON.stringify(request));
    expect(readValues(wire.values)).toContain(JSON.stringify({ patch: { model: 'up-model', stream_options: { include_usage: true } } }));
    expect(wire.arena.byteLength).toBe(bytes.length + Buffer.concat(sseBytes(['a', 'b'])).length);
    const [back] = decodeBatch(structuredClone(wire));
    expect(back?.rec.request).toEqual(request);
    expect(back?.rec.upstreamRequest).toEqual(upstream);
    expect(back?.rec.response.kind).toBe('sse');
    const chunks = back?.rec.response.kind === 'sse' ? back.rec.response.chunks : [];
    expect(Buffer.concat(chunks).equals(Buffer.concat(sseBytes(['a', 'b'])))).toBe(true);
    expect(back?.rec.id).toBe(rec.id);
  });

  it('keeps several records apart in one arena, and whole values when there are no bytes', () => {
    const a = callRecord([{ role: 'user', content: 'a' }], null, {
      requestBytes: Buffer.from('{"model":"gpt-x","messages":[{"role":"user","content":"a"}]}'),
      response: { kind: 'raw-json', bytes: Buffer.from('{"id":"one"}') },
    });
    a.upstreamRequest = a.request;
    const b = callRecord([{ role: 'user', content: 'b' }], 'reply b', { upstreamRequest: { contents: [] } });
    const out = decodeBatch(structuredClone(encodeBatch([{ rec: a, turn: null }, { rec: b, turn: 4 }], 2, opts)));
    expect(out[0]?.rec.upstreamRequest).toEqual(a.request);
    expect(out[0]?.rec.response.kind === 'raw-json' && out[0].rec.response.bytes.toString()).toBe('{"id":"one"}');
    expect(out[1]?.rec.request).toEqual(b.request);
    expect(out[1]?.rec.upstreamRequest).toEqual({ contents: [] });
    expect(out[1]?.rec.response).toEqual(b.response);
    expect(out[1]?.turn).toBe(4);
    expect(out[1]?.rec).toEqual({ ...b, requestBytes: null });
  });

  it('leaves out a record JSON cannot hold, and says so', () => {
    const bad = callRecord([{ role: 'user', content: 'x' }], 'y', { metadata: { n: 1n } });
    const good = callRecord([{ role: 'user', content: 'z' }], 'w');
    const skipped: string[] = [];
    const wire = encodeBatch([{ rec: bad, turn: null }, { rec: good, turn: null }], 3, opts, (r) => skipped.push(r.id));
    expect(skipped).toEqual([bad.id]);
    expect(decodeBatch(wire).map((q) => q.rec.id)).toEqual([good.id]);
  });

  it('tells an unavailable database from a refused row', () => {
    expect(faultOf(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))).toBe('unavailable');
    expect(faultOf(Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_NOTNULL' }))).toBe('row');
    expect(faultOf({ message: 'x', driverError: { code: '57P01' } })).toBe('unavailable');
    expect(faultOf(Object.assign(new Error('bad'), { code: '22P02' }))).toBe('row');
    expect(faultOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe('unavailable');
    expect(faultOf(new Error('something odd'))).toBe('unknown');
  });

  it('packs a batch into one buffer that survives a structured clone and unpacks with the replay flag', () => {
    const request = { model: 'm', messages: [{ role: 'user', content: 'ünïcode' }], stream: true };
    const rec = callRecord(request.messages, null, {
      request,
      requestBytes: Buffer.from(JSON.stringify(request)),
      response: { kind: 'sse', chunks: sseBytes(['x', 'y']) },
      metadata: { team: 'a' },
    });
    const wire = encodeBatch([{ rec, turn: 3 }], 9, opts);
    const packed = packBatch(wire);
    expect(packed.seq).toBe(9);
    expect(packed.count).toBe(1);
    expect(packed.bytes).toBeInstanceOf(Uint8Array);
    // What the worker receives: a plain Uint8Array copy.
    const arrived = structuredClone(packed.bytes);
    for (const replay of [false, true]) {
      const batch = unpackBatch(arrived, replay);
      expect(batch.replay).toBe(replay);
      const [back] = decodeBatch(batch);
      expect(back?.turn).toBe(3);
      expect(back?.rec.id).toBe(rec.id);
      expect(back?.rec.request).toEqual(request);
      expect(back?.rec.metadata).toEqual({ team: 'a' });
      const chunks = back?.rec.response.kind === 'sse' ? back.rec.response.chunks : [];
      expect(Buffer.concat(chunks).equals(Buffer.concat(sseBytes(['x', 'y'])))).toBe(true);
    }
  });

  it('packs record by record into an arena that grows, as encodeBatch packs them at once', () => {
    const recs = Array.from({ length: 40 }, (_, i) => {
      const request = { model: 'm', messages: [{ role: 'user', content: `q${i} ${'x'.repeat(200)}` }] };
      return callRecord(request.messages, null, {
        request,
        requestBytes: Buffer.from(JSON.stringify(request)),
        response: { kind: 'sse', chunks: sseBytes([`a${i}`, 'b'.repeat(300)]) },
      });
    });
    const builder = new BatchBuilder(1024);
    for (const rec of recs) expect(builder.add({ rec, turn: null })).toBe(true);
    expect(builder.count).toBe(40);
    const incremental = builder.take(5, opts);
    const atOnce = encodeBatch(
      recs.map((rec) => ({ rec, turn: null })),
      5,
      opts,
    );
    expect(incremental.arena.byteLength).toBeGreaterThan(1024);
    expect(Buffer.from(incremental.arena).equals(Buffer.from(atOnce.arena))).toBe(true);
    expect(Buffer.from(incremental.values).equals(Buffer.from(atOnce.values))).toBe(true);
    expect(decodeBatch(structuredClone(incremental)).map((q) => q.rec.id)).toEqual(recs.map((r) => r.id));
  });

  it('sends an upstream request kept as the bytes sent as those bytes, and parses them in the worker', () => {
    const request = { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true };
    const requestBytes = Buffer.from(JSON.stringify(request));
    const sent = Buffer.from(JSON.stringify({ ...request, stream_options: { include_usage: true } }));
    const rec = callRecord(request.messages, null, {
      request,
      requestBytes,
      upstreamRequest: sent,
      response: { kind: 'sse', chunks: sseBytes(['a']) },
    });
    const wire = encodeBatch([{ rec, turn: null }], 1, opts);
    expect(readValues(wire.values).every((v) => v === null || typeof v !== 'object')).toBe(true);
    expect(wire.arena.byteLength).toBe(requestBytes.length + sent.length + Buffer.concat(sseBytes(['a'])).length);
    const [back] = decodeBatch(structuredClone(wire));
    expect(back?.rec.request).toEqual(request);
    expect(back?.rec.upstreamRequest).toEqual({ ...request, stream_options: { include_usage: true } });
    const chunks = back?.rec.response.kind === 'sse' ? back.rec.response.chunks : [];
    expect(Buffer.concat(chunks).equals(Buffer.concat(sseBytes(['a'])))).toBe(true);
  });
});

describe('trace wire values', () => {
  it('reads back strings (any script), numbers, booleans and null in order', () => {
    const rec = callRecord([{ role: 'user', content: 'x' }], 'y', {
      model: 'modèle-😀-中文',
      error: null,
      latencyMs: 12.345678,
      ttftMs: null,
      stream: true,
    });
    const wire = encodeBatch([{ rec, turn: 7 }], 1, opts);
    const v = readValues(wire.values);
    expect(v[0]).toBe(rec.id);
    expect(v[3]).toBe('modèle-😀-中文');
    expect(v[6]).toBe(true);
    expect(v[13]).toBe(12.345678);
    expect(v[14]).toBeNull();
    expect(v[19]).toBe(7);
    const [back] = decodeBatch(structuredClone(wire));
    expect(back?.rec.model).toBe('modèle-😀-中文');
    expect(back?.rec.latencyMs).toBe(12.345678);
    expect(back?.turn).toBe(7);
  });

  it('keeps each record with its own attempts when records have different numbers of them', () => {
    const attempt = (provider: string, status: number | null, error: string | null) => ({
      provider,
      model: 'm',
      status,
      error,
      latency_ms: 1.5,
    });
    const a = callRecord([{ role: 'user', content: 'a' }], 'a', {
      attempts: [attempt('p1', 503, 'upstream error 503'), attempt('p2', 200, null)],
    });
    const b = callRecord([{ role: 'user', content: 'b' }], 'b', { attempts: [] });
    const c = callRecord([{ role: 'user', content: 'c' }], 'c', { attempts: [attempt('p3', null, 'timeout')] });
    const out = decodeBatch(
      structuredClone(encodeBatch([a, b, c].map((rec) => ({ rec, turn: null })), 1, opts)),
    );
    expect(out.map((q) => q.rec.attempts)).toEqual([a.attempts, [], c.attempts]);
    expect(out.map((q) => q.rec.id)).toEqual([a.id, b.id, c.id]);
  });

  it('reads ids at once and each record on demand, in any order; keeps the texts that parsed as JSON', () => {
    const recs = Array.from({ length: 5 }, (_, i) => {
      const text = `{"model":"m${i}", "messages":[{"role":"user","content":"q${i}"}]}`;
      const request = JSON.parse(text) as unknown;
      return callRecord([], `r${i}`, {
        request,
        requestBytes: Buffer.from(text),
        upstreamRequest: i % 2 === 0 ? request : Buffer.from(`{"model":"up${i}"}`),
        response: { kind: 'raw-json', bytes: Buffer.from(`{"id":"${i}"}`) },
        usage: i === 3 ? null : { prompt_tokens: i, completion_tokens: 2, total_tokens: i + 2, cached_tokens: 1, reasoning_tokens: 0, source: 'provider' },
        attempts: Array.from({ length: i % 3 }, (_, k) => ({ provider: `p${k}`, model: 'x', status: 500, error: 'e', latency_ms: k })),
      });
    });
    const wire = unpackBatch(structuredClone(packBatch(encodeBatch(recs.map((rec) => ({ rec, turn: null })), 1, opts)).bytes), false);
    const reader = new BatchReader(wire);
    expect(reader.count).toBe(5);
    expect(reader.ids).toEqual(recs.map((r) => r.id));
    for (const i of [4, 1, 3, 0, 2, 2]) {
      const { rec, texts } = reader.record(i);
      const src = recs[i]!;
      expect(rec.id).toBe(src.id);
      expect(rec.request).toEqual(src.request);
      expect(rec.usage).toEqual(src.usage);
      expect(rec.attempts).toEqual(src.attempts);
      expect(rec.response.kind === 'raw-json' && rec.response.bytes.toString()).toBe(`{"id":"${i}"}`);
      expect(texts.request).toBe(src.requestBytes?.toString());
      expect(texts.upstream).toBe(i % 2 === 0 ? src.requestBytes?.toString() : `{"model":"up${i}"}`);
    }
    // Bytes that are not JSON travel as text, and are not offered as a stored JSON text.
    const notJson = callRecord([], null, { request: { model: 'm' }, requestBytes: Buffer.from('{"model":"m"'), upstreamRequest: null });
    const back = new BatchReader(encodeBatch([{ rec: notJson, turn: null }], 2, opts)).record(0);
    expect(back.rec.request).toBe('{"model":"m"');
    expect(back.texts.request).toBeNull();
  });

  it('packs into an exact-size buffer, so the builder can be reused for the next batch', () => {
    const builder = new BatchBuilder(1024);
    const a = callRecord([{ role: 'user', content: 'a' }], 'x', { requestBytes: Buffer.from('{"model":"gpt-x","messages":[]}') });
    builder.add({ rec: a, turn: null });
    const first = packBatch(builder.take(1, { replay: false, storeBodies: false, jsonl: '/tmp/tráces.jsonl' }));
    builder.reset();
    const b = callRecord([{ role: 'user', content: 'b' }], 'y', { requestBytes: Buffer.from('{"model":"other","messages":[1]}') });
    builder.add({ rec: b, turn: 2 });
    const second = packBatch(builder.take(2, opts));
    const one = unpackBatch(structuredClone(first.bytes), true);
    expect({ seq: one.seq, count: one.count, replay: one.replay, storeBodies: one.storeBodies, jsonl: one.jsonl }).toEqual({
      seq: 1,
      count: 1,
      replay: true,
      storeBodies: false,
      jsonl: '/tmp/tráces.jsonl',
    });
    expect(decodeBatch(one).map((q) => [q.rec.id, q.rec.request])).toEqual([[a.id, { model: 'gpt-x', messages: [] }]]);
    const two = unpackBatch(second.bytes, false);
    expect(two.jsonl).toBeNull();
    expect(decodeBatch(two).map((q) => [q.rec.id, q.turn, q.rec.request])).toEqual([[b.id, 2, { model: 'other', messages: [1] }]]);
    expect(() => unpackBatch(new Uint8Array(3), false)).toThrow(/too short/);
  });

  it('starts the values and the arena at multiples of ALIGN in a ring region, whatever the jsonl path', () => {
    const ring = new BatchRing(64 * 1024);
    for (let n = 0; n < 2 * ALIGN; n++) {
      const request = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(n) }] };
      const rec = callRecord(request.messages, null, {
        request,
        requestBytes: Buffer.from(JSON.stringify(request)),
        response: { kind: 'sse', chunks: sseBytes(['a'.repeat(n + 1)]) },
      });
      const jsonl = n % 3 === 0 ? null : `/tmp/${'t'.repeat(n)}.jsonl`;
      const packed = packBatch(encodeBatch([{ rec, turn: null }], n + 1, { ...opts, jsonl }), (size) => ring.reserve(size)!);
      expect(packed.bytes.byteOffset % ALIGN).toBe(0);
      const batch = unpackBatch(packed.bytes, false);
      expect([batch.values.byteOffset % ALIGN, batch.arena.byteOffset % ALIGN]).toEqual([0, 0]);
      expect(batch.jsonl).toBe(jsonl);
      const [back] = decodeBatch(batch);
      expect(back?.rec.request).toEqual(request);
      const chunks = back?.rec.response.kind === 'sse' ? back.rec.response.chunks : [];
      expect(Buffer.concat(chunks).equals(Buffer.concat(sseBytes(['a'.repeat(n + 1)])))).toBe(true);
    }
    const truncated = packBatch(encodeBatch([{ rec: callRecord([], null), turn: null }], 1, opts)).bytes.subarray(0, 25);
    expect(() => unpackBatch(truncated, false)).toThrow(/truncated/);
  });
});

/**
 * Trace storage and queries, run against SQLite and PostgreSQL: migrations, the batch writer
 * through its worker thread (own connection), session threading (`sessionOf` included), turn
 * numbers under two concurrent writers, filters and cursor paging, full-text search, export,
 * stats (exact and from the rollup), retention, metadata-only mode, redaction, a database that
 * is down, a worker that dies (SPEC §5, issue 3).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, sqlitePath } from '../../src/database/data-source';
import { ENTITIES, MIGRATIONS } from '../../src/database/schema';
import { parseIngest } from '../../src/traces/ingest';
import { SqliteReader } from '../../src/traces/sqlite-reader';
import { buildTrace } from '../../src/traces/trace-builder';
import { TraceQuery } from '../../src/traces/trace-query';
import { TraceStats } from '../../src/traces/trace-stats';
import { TraceStore } from '../../src/traces/trace-store';
import { workerLink } from '../../src/traces/trace-worker-link';
import { TraceWriter } from '../../src/traces/trace-writer';
import { callRecord, nextTime, sseBytes } from '../support/call-records';
import { createTempPostgres, PG_ADMIN_URL, reachable, warnSkipped } from '../support/temp-postgres';

const quiet = { warn: () => undefined, error: () => undefined };

interface Env {
  url: string;
  pg: boolean;
  ds: DataSource;
  store: TraceStore;
  query: TraceQuery;
  stats: TraceStats;
  dir: string;
  writer(opts?: { storeBodies?: boolean; jsonl?: string; maxBackoffMs?: number }): TraceWriter;
  cleanup(): Promise<void>;
}

async function open(url: string, dir: string, drop: () => Promise<void>): Promise<Env> {
  const ds = createDataSource(url, ENTITIES, MIGRATIONS);
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  const store = new TraceStore(ds);
  const writers: TraceWriter[] = [];
  // SQLite reads run on the reader thread, as in the app.
  const reader = url.startsWith('sqlite:') ? new SqliteReader(sqlitePath(url)) : null;
  await reader?.start();
  const read = reader ? (sql: string, params: unknown[]) => reader.query(sql, params) : null;
  return {
    url,
    pg: !url.startsWith('sqlite:'),
    ds,
    store,
    query: new TraceQuery(ds, read),
    stats: new TraceStats(ds, read),
    dir,
    writer: (o = {}) => {
      const w = new TraceWriter(workerLink({ url, busyTimeoutMs: 50, maxBackoffMs: o.maxBackoffMs ?? 200 }), {
        enabled: () => true,
        storeBodies: () => o.storeBodies ?? true,
        jsonl: () => o.jsonl,
        intervalMs: 1,
        logger: quiet,
      });
      writers.push(w);
      return w;
    },
    cleanup: async () => {
      for (const w of writers) await w.close(2000);
      await reader?.close();
      if (ds.isInitialized) await ds.destroy();
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Makes the database refuse the trace worker until the returned function is called: SQLite, by
 * holding the write lock from another connection; PostgreSQL, by refusing new connections to
 * the database and ending the open ones.
 */
async function takeDown(e: Env): Promise<() => Promise<void>> {
  if (!e.pg) {
    const db = new Database(sqlitePath(e.url));
    db.exec('BEGIN IMMEDIATE');
    return async () => {
      db.exec('ROLLBACK');
      db.close();
    };
  }
  const name = new URL(e.url).pathname.slice(1);
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
  await admin.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
  return async () => {
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    await admin.end();
  };
}

const user = (content: string) => ({ role: 'user', content });
const assistant = (content: string) => ({ role: 'assistant', content });

function suite(
  name: string,
  setup: (dir: string) => Promise<{ url: string; drop: () => Promise<void> } | null>,
): void {
  describe(`trace storage on ${name}`, () => {
    let env: Env | null = null;

    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gw-tracedb-'));
      const db = await setup(dir);
      if (db) env = await open(db.url, dir, db.drop);
    });
    afterAll(async () => {
      await env?.cleanup();
    });

    /** Runs the check when the database exists (PostgreSQL may be unreachable: warned above). */
    const run = (title: string, fn: (e: Env) => Promise<void>) =>
      it(title, async () => {
        if (env) await fn(env);
      });

    run('writes a full trace: metadata in the list, bodies only in the record', async (e) => {
      const w = e.writer();
      const rec = callRecord([user('hello storage')], 'hi there', {
        keyId: 'key_1',
        metadata: { team: 'a' },
        request: { model: 'gpt-x', messages: [user('hello storage')], api_key: 'sk-secret-field-1234567' },
      });
      w.record(rec);
      await w.flush();
      const t = await e.query.get(rec.id);
      expect(t).toMatchObject({
        id: rec.id,
        endpoint: '/v1/chat/completions',
        key_id: 'key_1',
        model: 'gpt-x',
        provider: 'up',
        upstream_model: 'up-model',
        stream: false,
        status: 'success',
        http_status: 200,
        turn: 1,
        session_id: rec.id,
        latency_ms: 120,
        overhead_ms: 1.5,
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, source: 'provider' },
        flags: { multimodal: false, tools: false },
        metadata: { team: 'a' },
        replay_of: null,
        attempts: [{ provider: 'up', model: 'up-model', status: 200, error: null, latency_ms: 118 }],
      });
      expect(t?.created_at).toBe(new Date(rec.startedAt).toISOString());
      expect(t?.request).toEqual({
        model: 'gpt-x',
        messages: [user('hello storage')],
        api_key: '[redacted]',
      });
      expect(
        (t?.response as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content,
      ).toBe('hi there');
      const page = await e.query.list({ key_id: 'key_1' }, 10, null);
      expect(page.data.map((r) => r.id)).toEqual([rec.id]);
      expect(page.data[0]).not.toHaveProperty('request');
      expect(page.data[0]).not.toHaveProperty('response');
    });

    run('reassembles a raw SSE stream and estimates usage when none is reported', async (e) => {
      const w = e.writer();
      const streamed = callRecord([user('count to three')], null, {
        stream: true,
        ttftMs: 12.5,
        response: { kind: 'sse', chunks: sseBytes(['one, ', 'two, ', 'thrée']) },
      });
      const unreported = callRecord([user('no usage here please')], null, {
        response: { kind: 'sse', chunks: sseBytes(['fine'], false) },
        stream: true,
      });
      w.record(streamed);
      w.record(unreported);
      await w.flush();
      const s = await e.query.get(streamed.id);
      const msg = (s?.response as { choices: Array<{ message: { content: string }; finish_reason: string }> })
        .choices[0];
      expect(msg?.message.content).toBe('one, two, thrée');
      expect(msg?.finish_reason).toBe('stop');
      expect(s?.usage).toMatchObject({
        prompt_tokens: 7,
        completion_tokens: 3,
        total_tokens: 10,
        source: 'provider',
      });
      expect(s?.ttft_ms).toBe(12.5);
      const u = await e.query.get(unreported.id);
      expect(u?.usage.source).toBe('estimated');
      expect(u?.usage.completion_tokens).toBeGreaterThan(0);
    });

    run('threads turns of one conversation recorded in the same batch, and across batches', async (e) => {
      const w = e.writer();
      const m1 = [user('Plan a trip to Rome with a very long first message that goes on and on and on')];
      const t1 = callRecord(m1, 'Day 1: Colosseum');
      const m2 = [...m1, assistant('Day 1: Colosseum'), user('and Naples?')];
      const t2 = callRecord(m2, 'Pizza');
      const m3 = [...m2, assistant('Pizza'), user('thanks')];
      const t3 = callRecord(m3, 'You are welcome', { model: 'gpt-y' });
      const other = callRecord([user('unrelated')], 'ok');
      for (const r of [t1, t2, t3, other]) w.record(r);
      await w.flush();
      const later = callRecord([...m3, assistant('You are welcome'), user('bye')], 'bye');
      w.record(later);
      await w.flush();
      const got = await Promise.all([t1, t2, t3, later, other].map((r) => e.query.get(r.id)));
      expect(got.map((g) => g?.turn)).toEqual([1, 2, 3, 4, 1]);
      expect(new Set(got.slice(0, 4).map((g) => g?.session_id))).toEqual(new Set([t1.id]));
      expect(got[4]?.session_id).toBe(other.id);
      const sessions = await e.query.sessions(100, null);
      const s = sessions.data.find((x) => x.id === t1.id);
      expect(s).toMatchObject({ turns: 4, total_tokens: 60, first_at: new Date(t1.startedAt).toISOString() });
      expect(s?.name).toBe('Plan a trip to Rome with a very long first message that goe…');
      expect(s?.models).toEqual(['gpt-x', 'gpt-y']);
      const records = await e.query.sessionRecords(t1.id);
      expect(records.map((r) => r.turn)).toEqual([1, 2, 3, 4]);
      expect(records[1]?.request).toEqual({ model: 'gpt-x', messages: m2 });
    });

    run('joins X-Session-Id sessions by count, and keeps an ingested turn number', async (e) => {
      const w = e.writer();
      const a = callRecord([user('a')], 'a', { sessionId: 'header-session' });
      const b = callRecord([user('b')], 'b', { sessionId: 'header-session' });
      w.record(a);
      w.record(b);
      await w.flush();
      const c = callRecord([user('c')], 'c', { sessionId: 'header-session' });
      w.record(c);
      const ingested = parseIngest(
        {
          session_id: 'app-session',
          turn_number: 7,
          request: { model: 'm', messages: [user('x')] },
          status: 'error',
          error_message: 'boom',
        },
        'key_9',
      );
      w.enqueue(ingested.rec, ingested.turn);
      await w.flush();
      const turns = await Promise.all([a, b, c].map(async (r) => (await e.query.get(r.id))?.turn));
      expect(turns).toEqual([1, 2, 3]);
      const i = await e.query.get(ingested.rec.id);
      expect(i).toMatchObject({
        session_id: 'app-session',
        turn: 7,
        status: 'error',
        http_status: 500,
        error: 'boom',
        key_id: 'key_9',
        endpoint: '/api/traces',
      });
    });

    run('filters and pages newest first, each trace exactly once', async (e) => {
      const w = e.writer();
      const recs = Array.from({ length: 23 }, (_, i) =>
        callRecord([user(`page item ${i}`)], `r${i}`, {
          model: i % 2 ? 'page-odd' : 'page-even',
          status: i % 5 === 0 ? 'error' : 'success',
          httpStatus: i % 5 === 0 ? 502 : 200,
          startedAt: nextTime(0) + 1000 * 1000 + (i % 7) * 10,
        }),
      );
      for (const r of recs) w.record(r);
      await w.flush();
      const seen: string[] = [];
      let cursor: string | null = null;
      let prev = Infinity;
      do {
        const page = await e.query.list({ model: 'page-odd' }, 4, cursor);
        for (const t of page.data) {
          expect(Date.parse(t.created_at)).toBeLessThanOrEqual(prev);
          prev = Date.parse(t.created_at);
          seen.push(t.id);
        }
        cursor = page.next_cursor;
      } while (cursor);
      const odd = recs.filter((_, i) => i % 2).map((r) => r.id);
      expect(seen.sort()).toEqual(odd.sort());
      const errors = await e.query.list({ status: 'error', model: 'page-even' }, 50, null);
      expect(errors.data.map((t) => t.id).sort()).toEqual(
        recs
          .filter((_, i) => i % 10 === 0)
          .map((r) => r.id)
          .sort(),
      );
      const t0 = Math.min(...recs.map((r) => r.startedAt));
      const window = await e.query.list({ model: 'page-even', since: t0, until: t0 + 1 }, 50, null);
      expect(window.data.every((t) => Date.parse(t.created_at) === t0)).toBe(true);
      expect(window.data.length).toBeGreaterThan(0);
    });

    run('searches request and response text, pages the hits, forgets deleted traces', async (e) => {
      const w = e.writer();
      const hits = Array.from({ length: 5 }, (_, i) =>
        callRecord([user(`where is Zanzibar ${i}`)], 'far away'),
      );
      const inReply = callRecord([user('tell me a place')], 'Zanzibar is an island');
      const miss = callRecord([user('Zanzibaria is not the word')], 'no');
      for (const r of [...hits, inReply, miss]) w.record(r);
      await w.flush();
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await e.query.list({ q: 'zanzibar' }, 2, cursor);
        ids.push(...page.data.map((t) => t.id));
        cursor = page.next_cursor;
      } while (cursor);
      expect(ids.sort()).toEqual([...hits, inReply].map((r) => r.id).sort());
      const both = await e.query.list({ q: 'Zanzibar island' }, 10, null);
      expect(both.data.map((t) => t.id)).toEqual([inReply.id]);
      expect((await e.query.list({ q: '"*' }, 10, null)).data).toEqual([]);
      expect(await e.store.delete(inReply.id)).toBe(true);
      expect(await e.store.delete(inReply.id)).toBe(false);
      expect((await e.query.list({ q: 'island' }, 10, null)).data).toEqual([]);
      expect(await e.query.get(inReply.id)).toBeNull();
    });

    run('keeps metadata only when store_bodies is false, also in the JSONL sink', async (e) => {
      const jsonl = join(e.dir, 'meta.jsonl');
      const w = e.writer({ storeBodies: false, jsonl });
      const rec = callRecord([user('metadata only Quokka')], 'ok');
      w.record(rec);
      await w.flush();
      const t = await e.query.get(rec.id);
      expect(t?.usage.total_tokens).toBe(15);
      expect(t?.request).toBeNull();
      expect((await e.query.list({ q: 'Quokka' }, 10, null)).data).toEqual([]);
      const line = JSON.parse(readFileSync(jsonl, 'utf8').trim()) as Record<string, unknown>;
      expect(line).toMatchObject({ id: rec.id, model: 'gpt-x', turn: 1 });
      expect(line).not.toHaveProperty('request');
    });

    run('exports every matching trace with its bodies', async (e) => {
      const w = e.writer();
      const recs = Array.from({ length: 5 }, (_, i) =>
        callRecord([user(`export ${i}`)], 'x', { model: 'export-model' }),
      );
      for (const r of recs) w.record(r);
      await w.flush();
      const out = [];
      for await (const t of e.query.export({ model: 'export-model' }, 2)) out.push(t);
      expect(out.map((t) => t.id).sort()).toEqual(recs.map((r) => r.id).sort());
      expect(out.every((t) => (t.request as { model: string }).model === 'gpt-x')).toBe(true);
    });

    run('computes stats per model, provider and bucket', async (e) => {
      const w = e.writer();
      const base = Date.parse('2030-01-01T00:00:00Z');
      const lat = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
      lat.forEach((l, i) =>
        w.record(
          callRecord([user(`s${i}`)], 'x', {
            model: i < 6 ? 'stat-a' : 'stat-b',
            provider: i < 6 ? 'p1' : 'p2',
            startedAt: base + i * 60_000,
            latencyMs: l,
            status: i === 9 ? 'error' : 'success',
            httpStatus: i === 9 ? 502 : 200,
          }),
        ),
      );
      await w.flush();
      const s = await e.stats.compute(base, base + 3_600_000, 300, 3);
      expect(s.totals).toMatchObject({
        requests: 10,
        errors: 1,
        latency_p50_ms: 50,
        latency_p95_ms: 100,
        total_tokens: 150,
      });
      expect(s.by_model.find((m) => m.model === 'stat-a')).toMatchObject({
        requests: 6,
        errors: 0,
        latency_p50_ms: 30,
        latency_p95_ms: 60,
      });
      expect(s.by_provider.find((m) => m.provider === 'p2')).toMatchObject({ requests: 4, errors: 1 });
      expect(s.buckets.map((b) => b.requests)).toEqual([5, 5]);
      expect(s.buckets[0]?.start).toBe(new Date(base).toISOString());
    });

    run('retention deletes older traces with their bodies, search rows and sessions', async (e) => {
      const w = e.writer();
      const old = callRecord([user('ancient Okapi')], 'x', { startedAt: Date.parse('2000-01-01T00:00:00Z') });
      const fresh = callRecord([user('fresh Okapi')], 'x');
      w.record(old);
      w.record(fresh);
      await w.flush();
      const removed = await e.store.deleteOlderThan(Date.parse('2001-01-01T00:00:00Z'), 1);
      expect(removed).toBe(1);
      expect(await e.query.get(old.id)).toBeNull();
      expect((await e.query.list({ q: 'Okapi' }, 10, null)).data.map((t) => t.id)).toEqual([fresh.id]);
      expect((await e.query.sessions(500, null)).data.some((s) => s.id === old.id)).toBe(false);
    });

    run('retention in the trace worker deletes older traces off the main thread', async (e) => {
      const w = e.writer();
      const old = callRecord([user('ancient Wombat')], 'x', {
        startedAt: Date.parse('1999-06-01T00:00:00Z'),
      });
      const fresh = callRecord([user('fresh Wombat')], 'x');
      w.record(old);
      w.record(fresh);
      await w.flush();
      w.prune(Date.parse('2001-01-01T00:00:00Z'));
      const deadline = Date.now() + 20_000;
      while ((await e.query.get(old.id)) !== null && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(await e.query.get(old.id)).toBeNull();
      expect((await e.query.list({ q: 'Wombat' }, 10, null)).data.map((t) => t.id)).toEqual([fresh.id]);
      const s = await e.stats.compute(
        Date.parse('1999-01-01T00:00:00Z'),
        Date.parse('2000-01-01T00:00:00Z'),
        3600,
        5000,
        0,
      );
      expect(s.totals.requests).toBe(0);
    });

    run('holds traces while the database is down and writes them once it is back', async (e) => {
      const w = e.writer({ maxBackoffMs: 50 });
      w.record(callRecord([user('warm the worker')], 'x'));
      await w.flush();
      const bringBack = await takeDown(e);
      const recs = Array.from({ length: 5 }, (_, i) => callRecord([user(`written later ${i}`)], 'x'));
      try {
        for (const r of recs) w.record(r);
        await new Promise((r) => setTimeout(r, 500));
        expect(w.queueDepth()).toBe(5);
        expect(w.droppedTotal()).toBe(0);
      } finally {
        await bringBack();
      }
      await w.flush(30_000);
      expect(w.queueDepth()).toBe(0);
      expect(w.droppedTotal()).toBe(0);
      for (const r of recs) expect((await e.query.get(r.id))?.id).toBe(r.id);
    });

    run(
      'a trace joins the session of the trace it names (sessionOf), in the same batch or later',
      async (e) => {
        const w = e.writer();
        const parent = callRecord([user('what is in this picture Heron')], 'a bird');
        const described = callRecord([user('describe the image')], 'a grey heron', { sessionOf: parent.id });
        w.record(parent);
        w.record(described);
        await w.flush();
        const again = callRecord([user('describe the second image')], 'a pond', { sessionOf: parent.id });
        const unknown = callRecord([user('describe an orphan')], 'nothing', { sessionOf: 'no-such-trace' });
        const header = callRecord([user('with a header')], 'ok', { sessionId: 'img-header-session' });
        w.record(again);
        w.record(unknown);
        w.record(header);
        await w.flush();
        const ofHeader = callRecord([user('describe for the header call')], 'ok', { sessionOf: header.id });
        w.record(ofHeader);
        await w.flush();
        const got = await Promise.all(
          [parent, described, again, unknown, header, ofHeader].map((r) => e.query.get(r.id)),
        );
        expect(got.map((g) => [g?.session_id, g?.turn])).toEqual([
          [parent.id, 1],
          [parent.id, 2],
          [parent.id, 3],
          [unknown.id, 1],
          ['img-header-session', 1],
          ['img-header-session', 2],
        ]);
        const s = (await e.query.sessions(500, null)).data.find((x) => x.id === parent.id);
        expect(s?.turns).toBe(3);
      },
    );

    run('two writers on one database never give two traces of a session the same turn', async (e) => {
      const rec = (i: number) => callRecord([user(`race ${i}`)], `r${i}`, { sessionId: 'raced-session' });
      if (e.pg) {
        // Two connection pools, 20 transactions of 3 traces all in flight at once.
        const other = createDataSource(e.url, [], []);
        await other.initialize();
        try {
          const stores = [e.store, new TraceStore(other)];
          const draft = (i: number) => buildTrace(rec(i));
          await Promise.all(
            Array.from({ length: 20 }, (_, b) =>
              stores[b % 2]!.insertBatch([draft(b * 3), draft(b * 3 + 1), draft(b * 3 + 2)], true),
            ),
          );
        } finally {
          await other.destroy();
        }
      } else {
        // Two worker threads, each with its own connection to the file.
        const writers = [e.writer(), e.writer()];
        for (let i = 0; i < 60; i++) writers[i % 2]!.record(rec(i));
        await Promise.all(writers.map((w) => w.flush(30_000)));
      }
      const turns = (await e.query.sessionRecords('raced-session')).map((t) => t.turn).sort((a, b) => a - b);
      expect(turns).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      const s = (await e.query.sessions(500, null)).data.find((x) => x.id === 'raced-session');
      expect(s?.turns).toBe(60);
    });

    run('a worker that dies is restarted and writes every held trace exactly once', async (e) => {
      const w = e.writer({ maxBackoffMs: 50 });
      const first = callRecord([user('before the crash Pelican')], 'x');
      w.record(first);
      await w.flush();
      const bringBack = await takeDown(e);
      const held = Array.from({ length: 20 }, (_, i) =>
        callRecord([user(`held through a crash Pelican ${i}`)], 'x'),
      );
      try {
        for (const r of held) w.record(r);
        await new Promise((r) => setTimeout(r, 300));
        expect(w.queueDepth()).toBe(20);
        w.abortWorker();
        await new Promise((r) => setTimeout(r, 300));
        expect(w.queueDepth()).toBe(20);
      } finally {
        await bringBack();
      }
      await w.flush(30_000);
      expect(w.queueDepth()).toBe(0);
      expect(w.droppedTotal()).toBe(0);
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await e.query.list({ q: 'Pelican' }, 50, cursor);
        ids.push(...page.data.map((t) => t.id));
        cursor = page.next_cursor;
      } while (cursor);
      expect(ids.sort()).toEqual([first, ...held].map((r) => r.id).sort());
    });

    run('close() writes every queued trace through the worker before it returns', async (e) => {
      const w = e.writer();
      const recs = Array.from({ length: 300 }, (_, i) =>
        callRecord([user(`closing ${i}`)], 'x', { model: 'close-model' }),
      );
      for (const r of recs) w.record(r);
      await w.close();
      expect(w.queueDepth()).toBe(0);
      const rows = await e.ds.query<Array<{ n: number | string }>>(
        "SELECT COUNT(*) AS n FROM traces WHERE model = 'close-model'",
      );
      expect(Number(rows[0]?.n)).toBe(300);
    });

    run(
      'stats over many traces come from the rollup: exact counts, percentiles within a bucket',
      async (e) => {
        const w = e.writer();
        const base = Date.parse('2031-01-01T00:00:00Z');
        const recs = Array.from({ length: 200 }, (_, i) =>
          callRecord([user(`roll ${i}`)], 'x', {
            model: i % 4 === 0 ? 'roll-b' : 'roll-a',
            provider: 'roll-p',
            startedAt: base + i * 15_000,
            latencyMs: 10 + (i % 100) * 10,
            status: i % 10 === 0 ? 'error' : 'success',
            httpStatus: i % 10 === 0 ? 502 : 200,
          }),
        );
        for (const r of recs) w.record(r);
        await w.flush();
        const range = [base - 30_000, base + 3_600_000] as const;
        const exact = await e.stats.compute(range[0], range[1], 600);
        const rolled = await e.stats.compute(range[0], range[1], 600, 5000, 0);
        expect(exact.latency_percentiles).toBe('exact');
        expect(rolled.latency_percentiles).toBe('histogram');
        expect(rolled.totals).toMatchObject({ requests: 200, errors: 20, total_tokens: 3000 });
        expect(rolled.buckets.map((b) => b.requests)).toEqual(exact.buckets.map((b) => b.requests));
        expect(rolled.by_model.map((m) => [m.model, m.requests, m.errors])).toEqual(
          exact.by_model.map((m) => [m.model, m.requests, m.errors]),
        );
        for (const k of ['latency_p50_ms', 'latency_p95_ms'] as const) {
          const want = exact.totals[k]!;
          expect(Math.abs(rolled.totals[k]! - want) / want).toBeLessThan(0.1);
        }
        // Hourly buckets read the hour level of the rollup.
        const hourly = await e.stats.compute(range[0], range[1], 3600, 5000, 0);
        expect(hourly.totals).toMatchObject({ requests: 200, errors: 20, total_tokens: 3000 });
        expect(hourly.buckets.map((b) => b.requests)).toEqual([200]);
        expect(hourly.totals.latency_p50_ms).toBe(rolled.totals.latency_p50_ms);
        expect(await e.store.delete(recs[1]!.id)).toBe(true);
        const after = await e.stats.compute(range[0], range[1], 600, 5000, 0);
        expect(after.totals.requests).toBe(199);
        expect((await e.stats.compute(range[0], range[1], 3600, 5000, 0)).totals.requests).toBe(199);
      },
    );
  });
}

suite('SQLite', async (dir) => ({ url: `sqlite:${join(dir, 'gateway.db')}`, drop: async () => undefined }));

suite('PostgreSQL', async () => {
  if (!(await reachable(PG_ADMIN_URL))) {
    warnSkipped('trace storage on PostgreSQL', PG_ADMIN_URL);
    return null;
  }
  const db = await createTempPostgres('test');
  return { url: db.url, drop: () => db.drop() };
});

describe('trace storage on SQLite holds no credential in the file', () => {
  it('redacts credential fields and bearer tokens before they reach the database file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-tracedb-'));
    const env = await open(`sqlite:${join(dir, 'gateway.db')}`, dir, async () => undefined);
    const jsonl = join(dir, 'traces.jsonl');
    const w = env.writer({ jsonl });
    w.record(
      callRecord([user('my header was Authorization: Bearer sk-gw-AAAAbbbbCCCCdddd1234')], 'ok', {
        request: {
          model: 'gpt-x',
          messages: [user('hi')],
          authorization: 'Bearer upstream-secret-999',
          extra: { 'x-api-key': 'nested-secret-777' },
        },
        upstreamRequest: { model: 'up', key: 'fine', api_key: 'sk-upstream-secret-555' },
        metadata: { password: 'hunter2-secret' },
      }),
    );
    await w.flush();
    await env.ds.destroy();
    const bytes = ['gateway.db', 'gateway.db-wal', 'traces.jsonl']
      .map((f) => {
        try {
          return readFileSync(join(dir, f)).toString('latin1');
        } catch {
          return '';
        }
      })
      .join('');
    expect(bytes).toContain('[redacted]');
    for (const secret of [
      'sk-gw-AAAAbbbbCCCCdddd1234',
      'upstream-secret-999',
      'nested-secret-777',
      'sk-upstream-secret-555',
      'hunter2-secret',
    ]) {
      expect(bytes).not.toContain(secret);
    }
    await env.cleanup();
  });
});

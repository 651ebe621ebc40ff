/**
 * SQLite drivers for traces, side by side: `better-sqlite3` (the one the gateway uses) against
 * `sqlite3` (not a dependency: point SQLITE3_MODULE at an installed copy, e.g. one installed in a
 * temp directory). Same file, same schema (migrations), same statements:
 *   - writes: trace rows + bodies + search rows, prepared statements, 1,000 per transaction;
 *   - list API queries through TypeORM's TraceQuery (newest first, model=, `q`) on TRACES_N rows.
 *
 *   SQLITE3_MODULE=/tmp/x/node_modules/sqlite3 node -r ts-node/register/transpile-only bench/traces-drivers.ts
 */
import { newTraceId } from '../src/common/trace-id';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { createDataSource } from '../src/database/data-source';
import { ENTITIES, MIGRATIONS } from '../src/database/schema';
import { TraceQuery, type TraceFilters } from '../src/traces/trace-query';
import { fill, MODELS, VOCAB } from './traces-fill';

const N = Number(process.env.TRACES_N ?? 100_000);
const WRITES = Number(process.env.TRACES_WRITES ?? 20_000);
const RUNS = Number(process.env.TRACES_RUNS ?? 100);
const TX = 1000;

interface Sqlite3Statement {
  run(params: unknown[], cb: (err: Error | null) => void): void;
  finalize(cb: () => void): void;
}
interface Sqlite3Db {
  exec(sql: string, cb: (err: Error | null) => void): void;
  prepare(sql: string): Sqlite3Statement;
  close(cb: () => void): void;
}
interface Sqlite3Module {
  Database: new (file: string, cb: (err: Error | null) => void) => Sqlite3Db;
}

const INSERT_TRACE = `INSERT INTO traces (id, created_at, session_id, turn, endpoint, key_id, model, provider, upstream_model, stream,
  status, http_status, error, latency_ms, ttft_ms, overhead_ms, prompt_tokens, completion_tokens, total_tokens, cached_tokens,
  reasoning_tokens, usage_source, multimodal, tools, attempts, metadata, replay_of, reply_hash)
  VALUES (?, ?, ?, 1, '/v1/chat/completions', 'key_1', ?, 'up', 'm', 0, 'success', 200, NULL, 123.4, NULL, 1, 30, 40, 70, 0, 0,
  'provider', 0, 0, '[]', NULL, NULL, ?)`;
const INSERT_BODY =
  'INSERT INTO trace_bodies (trace_id, request, upstream_request, response) VALUES (?, ?, ?, ?)';
const INSERT_FTS = 'INSERT INTO trace_fts (rowid, body) VALUES ((SELECT rowid FROM traces WHERE id = ?), ?)';

function rows(n: number): unknown[][] {
  return Array.from({ length: n }, (_, i) => {
    const id = newTraceId(Date.now() + i);
    const q = `${VOCAB[i % 300]} ${VOCAB[(i * 7) % 5000]} question number ${i}`;
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: q }] });
    return [id, Date.now() + i, id, MODELS[i % MODELS.length], id.replace(/-/g, ''), body, q];
  });
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(p * s.length) - 1)] ?? NaN;
}

async function migrated(dir: string, name: string, stored: number): Promise<string> {
  const file = join(dir, name);
  const ds = createDataSource(`sqlite:${file}`, ENTITIES, MIGRATIONS);
  await ds.initialize();
  await ds.runMigrations();
  if (stored > 0)
    fill((ds.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection, stored);
  await ds.destroy();
  return file;
}

function writeBetter(file: string, data: unknown[][]): number {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const t1 = db.prepare(INSERT_TRACE);
  const t2 = db.prepare(INSERT_BODY);
  const t3 = db.prepare(INSERT_FTS);
  const tx = db.transaction((chunk: unknown[][]) => {
    for (const r of chunk) {
      t1.run(r[0], r[1], r[2], r[3], r[4]);
      t2.run(r[0], r[5], r[5], r[5]);
      t3.run(r[0], r[6]);
    }
  });
  const t = performance.now();
  for (let i = 0; i < data.length; i += TX) tx.immediate(data.slice(i, i + TX));
  const ms = performance.now() - t;
  db.close();
  return ms;
}

async function writeSqlite3(mod: Sqlite3Module, file: string, data: unknown[][]): Promise<number> {
  const db = await new Promise<Sqlite3Db>((ok, fail) => {
    const d = new mod.Database(file, (err) => (err ? fail(err) : ok(d)));
  });
  const exec = (sql: string) =>
    new Promise<void>((ok, fail) => db.exec(sql, (err) => (err ? fail(err) : ok())));
  const run = (s: Sqlite3Statement, p: unknown[]) =>
    new Promise<void>((ok, fail) => s.run(p, (err) => (err ? fail(err) : ok())));
  await exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  const t1 = db.prepare(INSERT_TRACE);
  const t2 = db.prepare(INSERT_BODY);
  const t3 = db.prepare(INSERT_FTS);
  const t = performance.now();
  for (let i = 0; i < data.length; i += TX) {
    await exec('BEGIN IMMEDIATE');
    const chunk = data.slice(i, i + TX);
    // Queued at once, as a batch writer would: the driver runs them in order on its thread.
    await Promise.all(
      chunk.flatMap((r) => [
        run(t1, [r[0], r[1], r[2], r[3], r[4]]),
        run(t2, [r[0], r[5], r[5], r[5]]),
        run(t3, [r[0], r[6]]),
      ]),
    );
    await exec('COMMIT');
  }
  const ms = performance.now() - t;
  for (const s of [t1, t2, t3]) await new Promise<void>((ok) => s.finalize(ok));
  await new Promise<void>((ok) => db.close(ok));
  return ms;
}

async function listTimes(ds: DataSource): Promise<Array<[string, number, number]>> {
  const q = new TraceQuery(ds);
  const cases: Array<[string, (i: number) => TraceFilters]> = [
    ['newest first', () => ({})],
    ['model=', (i) => ({ model: MODELS[i % MODELS.length]! })],
    ['q=common word', (i) => ({ q: VOCAB[i % 5]! })],
    ['q=rare word', (i) => ({ q: VOCAB[19_000 + i]! })],
  ];
  const out: Array<[string, number, number]> = [];
  for (const [name, f] of cases) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await q.list(f(i), 50, null);
      times.push(performance.now() - t);
    }
    out.push([name, pct(times, 0.5), pct(times, 0.95)]);
  }
  return out;
}

async function main(): Promise<void> {
  const modPath = process.env.SQLITE3_MODULE ?? 'sqlite3';
  let mod: Sqlite3Module;
  try {
    mod = (await import(modPath)) as Sqlite3Module;
  } catch {
    console.log(`sqlite3 not found at "${modPath}": set SQLITE3_MODULE to an installed copy`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'gw-drivers-'));
  try {
    const data = rows(WRITES);
    const fileA = await migrated(dir, 'a.db', 0);
    const fileB = await migrated(dir, 'b.db', 0);
    const better = writeBetter(fileA, data);
    const sqlite3 = await writeSqlite3(mod, fileB, data);
    console.log(
      `\nwrites: ${WRITES.toLocaleString('en')} traces (row + body + search row), ${TX} per transaction\n`,
    );
    console.log('| driver | traces/s | ratio |\n|---|---:|---:|');
    console.log(`| better-sqlite3 | ${Math.round((WRITES / better) * 1000).toLocaleString('en')} | 1.00 |`);
    console.log(
      `| sqlite3 | ${Math.round((WRITES / sqlite3) * 1000).toLocaleString('en')} | ${(better / sqlite3).toFixed(2)} |`,
    );

    const file = await migrated(dir, 'list.db', N);
    const a = createDataSource(`sqlite:${file}`, ENTITIES, []);
    await a.initialize();
    const ta = await listTimes(a);
    await a.destroy();
    const b = new DataSource({
      type: 'sqlite',
      database: file,
      driver: mod,
      entities: ENTITIES,
      synchronize: false,
    });
    await b.initialize();
    const tb = await listTimes(b);
    await b.destroy();
    console.log(`\nlist API through TypeORM on ${N.toLocaleString('en')} traces, ${RUNS} runs each (ms)\n`);
    console.log(
      '| query (limit 50) | better-sqlite3 p50 | p95 | sqlite3 p50 | p95 |\n|---|---:|---:|---:|---:|',
    );
    ta.forEach(([name, p50, p95], i) => {
      const o = tb[i]!;
      console.log(
        `| ${name} | ${p50.toFixed(2)} | ${p95.toFixed(2)} | ${o[1].toFixed(2)} | ${o[2].toFixed(2)} |`,
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * The trace reader thread: its own better-sqlite3 connection to the WAL file, answering the
 * main thread's read queries (src/traces/sqlite-reader.ts) one at a time. It only reads.
 */
import Database, { type Statement } from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority, TRACE_THREAD_NICE } from '../common/thread-priority';

interface Ask {
  id: number;
  sql: string;
  params: unknown[];
}

const MAX_STATEMENTS = 200;

function start(): void {
  const port = parentPort;
  // Trace work yields to the proxy when CPU is short (src/common/thread-priority.ts).
  lowerThreadPriority(TRACE_THREAD_NICE);
  if (!port) return;
  const { file, busyTimeoutMs } = workerData as { file: string; busyTimeoutMs: number };
  const db = new Database(file, { fileMustExist: true });
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 268435456');
  db.pragma('temp_store = MEMORY');
  // Reads only: a statement that would write fails here.
  db.pragma('query_only = ON');
  const statements = new Map<string, Statement>();
  const prepared = (sql: string): Statement => {
    let stmt = statements.get(sql);
    if (!stmt) {
      if (statements.size >= MAX_STATEMENTS) statements.clear();
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  };
  port.on('message', (m: Ask | { close: true }) => {
    if ('close' in m) {
      db.close();
      port.close();
      return;
    }
    try {
      const stmt = prepared(m.sql);
      if (!stmt.reader) throw new Error('the trace reader runs only statements that return rows');
      port.postMessage({ id: m.id, rows: stmt.all(...m.params) });
    } catch (err) {
      port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
  port.postMessage({ type: 'ready' });
}

start();

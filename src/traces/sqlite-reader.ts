/**
 * Trace reads on SQLite (lists, search, sessions, stats, export) on a thread of their own with its
 * own connection to the WAL file. better-sqlite3 is synchronous: a search or a stats query run on
 * the main thread would hold every proxied call for as long as it takes. A thread that dies is
 * started again on the next query; the queries it had fail with its error.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Row } from './trace-sql';
import { workerScript } from './trace-worker-link';

type Reply = { type: 'ready' } | { id: number; rows?: Row[]; error?: string };

interface Waiting {
  resolve(rows: Row[]): void;
  reject(err: Error): void;
}

export class SqliteReader {
  private worker: Worker | null = null;
  private ready: Promise<void> = Promise.resolve();
  private seq = 0;
  private readonly waiting = new Map<number, Waiting>();
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly busyTimeoutMs = 5000,
  ) {}

  /** Starts the thread now; resolves once it has opened the database (or could not). */
  start(): Promise<void> {
    this.thread();
    return this.ready;
  }

  query(sql: string, params: readonly unknown[]): Promise<Row[]> {
    if (this.closed) return Promise.reject(new Error('the trace reader is closed'));
    const worker = this.thread();
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, sql, params: params.map((p) => (typeof p === 'boolean' ? Number(p) : p)) });
    });
  }

  /** Lets the thread close its connection and end (never terminated: see trace-worker-link). */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = once(worker, 'exit').catch(() => undefined);
    worker.postMessage({ close: true });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const { script, eval: isEval } = workerScript('sqlite-reader-worker');
    const worker = new Worker(script, {
      eval: isEval,
      workerData: { file: this.file, busyTimeoutMs: this.busyTimeoutMs },
    });
    worker.unref();
    let opened: () => void = () => undefined;
    this.ready = new Promise((resolve) => (opened = resolve));
    const fail = (err: Error): void => {
      opened();
      if (this.worker === worker) this.worker = null;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('message', (m: Reply) => {
      if ('type' in m) {
        opened();
        return;
      }
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error !== undefined) w.reject(new Error(m.error));
      else w.resolve(m.rows ?? []);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the trace reader stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

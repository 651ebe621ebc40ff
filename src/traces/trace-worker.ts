/**
 * The trace worker thread: opens its own connection to the database the main thread migrated
 * (SQLite: better-sqlite3 on the same WAL file; PostgreSQL: a small TypeORM pool) and serves the
 * writer's messages (src/traces/trace-worker-link.ts). Everything heavy about a trace happens here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority, TRACE_THREAD_NICE } from '../common/thread-priority';
import type { DataSource } from 'typeorm';
import { isSqlite, sqlitePath } from '../database/database-url';
import type { TraceDraft } from './trace-builder';
import type { TraceSink } from './trace-pipeline';
import { SqliteTraceSink } from './sqlite-trace-sink';
import type { StoredTrace, TraceStore } from './trace-store';
import { serve, type FromWorker, type ToWorker, type WorkerInit } from './trace-worker-link';

/** PostgreSQL through TypeORM, connecting (again) whenever the pool is not up. */
class PostgresSink implements TraceSink {
  private ds: DataSource | null = null;
  private store: TraceStore | null = null;
  private opening: Promise<TraceStore> | null = null;

  constructor(private readonly url: string) {}

  /** TypeORM is loaded here only, so a SQLite worker starts without it. */
  private async ready(): Promise<TraceStore> {
    if (this.store && this.ds?.isInitialized) return this.store;
    this.opening ??= (async () => {
      const { createDataSource } = await import('../database/data-source');
      const { TraceStore: Store } = await import('./trace-store');
      this.ds ??= createDataSource(this.url, [], [], { poolSize: 2 });
      if (!this.ds.isInitialized) await this.ds.initialize();
      this.store = new Store(this.ds);
      return this.store;
    })().finally(() => (this.opening = null));
    return this.opening;
  }

  async insertBatch(drafts: Iterable<TraceDraft>, storeBodies: boolean): Promise<StoredTrace[]> {
    return (await this.ready()).insertBatch(drafts, storeBodies);
  }

  async ping(): Promise<boolean> {
    return (await this.ready()).ping();
  }

  async existing(ids: readonly string[]): Promise<Set<string>> {
    return (await this.ready()).existing(ids);
  }

  async prune(cutoff: number): Promise<number> {
    return (await this.ready()).deleteOlderThan(cutoff);
  }

  async close(): Promise<void> {
    if (this.ds?.isInitialized) await this.ds.destroy();
  }
}

function start(): void {
  const port = parentPort;
  // Trace work yields to the proxy when CPU is short (src/common/thread-priority.ts).
  lowerThreadPriority(TRACE_THREAD_NICE);
  if (!port) return;
  const init = workerData as WorkerInit;
  const sink = isSqlite(init.url)
    ? new SqliteTraceSink(sqlitePath(init.url), init.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: init.busyTimeoutMs })
    : new PostgresSink(init.url);
  const handle = serve(
    sink,
    init,
    (m: FromWorker) => port.postMessage(m),
    async () => {
      await sink.close();
      port.close();
    },
  );
  port.on('message', (m: ToWorker) => {
    // Between two statements (messages are read between transactions): a clean way to die.
    if (m.type === 'exit') process.exit(1);
    void handle(m);
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}

start();

/**
 * The channel between the main thread's TraceWriter and the trace pipeline: the message protocol,
 * the handler that serves it (inside the worker thread), and two links: the real worker thread
 * (node:worker_threads, restarted by the writer if it dies), and an in-thread one for unit tests.
 */
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { HOLD_MS, TracePipeline, type LogLevel, type Progress, type TraceSink } from './trace-pipeline';
import { touchPages } from './batch-ring';
import { BatchReader, unpackBatch } from './trace-wire';

export type ToWorker =
  /**
   * A PackedBatch's bytes (trace-wire.ts); `replay` when sent again after a restart; `hold` while
   * the proxy's event loop is saturated (writes wait, see TracePipeline.hold).
   */
  | { type: 'batch'; bytes: Uint8Array; replay: boolean; hold: boolean }
  /** Write what is queued now, without waiting for a pending retry. */
  | { type: 'flush' }
  /** Write what is queued (for at most timeoutMs), close the database, exit. */
  | { type: 'close'; timeoutMs: number }
  /** Exit at once, writing nothing more (what a crash does; handled between two statements). */
  | { type: 'exit' }
  /** Retention: delete traces created before `cutoff` (in small transactions, between batches). */
  | { type: 'prune'; cutoff: number }
  /** A ring made ahead of need (batch-ring.ts): fault its pages in, so the writer does not have to. */
  | { type: 'prefault'; buffer: SharedArrayBuffer };

export type FromWorker =
  /** The worker runs and has its database connection (SQLite) or will open it on first use. */
  | { type: 'ready' }
  | ({ type: 'progress' } & Progress)
  | { type: 'log'; level: LogLevel; obj: Record<string, unknown>; msg: string }
  | { type: 'closed'; left: number }
  | { type: 'pruned'; removed: number; error: string | null };

export interface LinkHandlers {
  /** Send a summary of every stored trace with the progress (the writer has an onStored hook). */
  summaries: boolean;
  message(m: FromWorker): void;
  /** The link ended; `error` when it was not asked to. */
  exit(error: Error | null): void;
}

export interface WriterLink {
  post(msg: ToWorker): void;
}

export type LinkFactory = (handlers: LinkHandlers) => WriterLink;

export interface PipelineSettings {
  batchSize?: number;
  maxBackoffMs?: number;
  summaries?: boolean;
}

/** Serves the protocol over a sink; returns the message handler (messages are handled in order). */
export function serve(
  sink: TraceSink,
  settings: PipelineSettings,
  send: (m: FromWorker) => void,
  closeSink: () => Promise<void> | void,
): (m: ToWorker) => Promise<void> {
  const pipeline = new TracePipeline(sink, {
    ...settings,
    progress: (p) => send({ type: 'progress', ...p }),
    log: (level, obj, msg) => send({ type: 'log', level, obj, msg }),
  });
  let chain: Promise<void> = Promise.resolve();
  const add = async (bytes: Uint8Array, replay: boolean): Promise<void> => {
    const batch = unpackBatch(bytes, replay);
    await pipeline.add(new BatchReader(batch), batch.seq, batch);
  };
  // Batches that arrive during a hold are kept as they came (bytes in shared memory, nothing on
  // this thread's heap) and read once the hold ends: reading a batch's ids and queueing its traces
  // is the worker's only work while it holds.
  const parked: Uint8Array[] = [];
  let parkTimer: NodeJS.Timeout | null = null;
  const unpark = async (): Promise<void> => {
    if (parkTimer) {
      clearTimeout(parkTimer);
      parkTimer = null;
    }
    while (parked.length > 0) await add(parked.shift()!, false);
  };
  const handle = async (m: ToWorker): Promise<void> => {
    switch (m.type) {
      case 'batch': {
        pipeline.hold(m.hold);
        // A batch sent again after a restart is never held (the writer posts it without).
        if (m.hold && !m.replay) {
          parked.push(m.bytes);
          if (parkTimer) clearTimeout(parkTimer);
          // A hold lapses HOLD_MS after the last batch that asked for it: so does the parking.
          parkTimer = setTimeout(() => {
            parkTimer = null;
            chain = chain.then(unpark, unpark);
          }, HOLD_MS);
          return;
        }
        await unpark();
        await add(m.bytes, m.replay);
        return;
      }
      case 'flush':
        await unpark();
        await pipeline.drainNow();
        return;
      case 'exit':
      case 'prune':
      case 'prefault':
        return;
      case 'close': {
        await unpark();
        const left = await pipeline.flush(m.timeoutMs);
        pipeline.stop();
        try {
          await closeSink();
        } catch {
          // closing anyway
        }
        send({ type: 'closed', left });
        return;
      }
    }
  };
  let pruning = false;
  return (m) => {
    if (m.type === 'prefault') {
      // At once, beside the batches: the ring is wanted before the backlog reaches it.
      touchPages(m.buffer);
      return chain;
    }
    if (m.type === 'prune') {
      // Beside the batches, not in their line: a long first pass must not hold traces back.
      if (!pruning) {
        pruning = true;
        sink
          .prune(m.cutoff)
          .then(
            (removed) => send({ type: 'pruned', removed, error: null }),
            (err: unknown) => send({ type: 'pruned', removed: 0, error: err instanceof Error ? err.message : String(err) }),
          )
          .finally(() => (pruning = false));
      }
      return chain;
    }
    chain = chain.then(
      () => handle(m),
      () => handle(m),
    );
    return chain;
  };
}

/** Everything the worker needs to open the database itself. */
export interface WorkerInit extends PipelineSettings {
  url: string;
  busyTimeoutMs?: number;
}

/** A worker thread's script beside this file: compiled JavaScript, or TypeScript through ts-node (tests, benches). */
export function workerScript(name = 'trace-worker'): { script: string; eval: boolean } {
  const file = join(__dirname, `${name}${extname(__filename)}`);
  if (!file.endsWith('.ts')) return { script: file, eval: false };
  const tsNode = require.resolve('ts-node/register/transpile-only');
  return {
    script: `if (!require.extensions['.ts']) require(${JSON.stringify(tsNode)}); require(${JSON.stringify(file)});`,
    eval: true,
  };
}

/** A link to a new worker thread that owns its own database connection. */
export function workerLink(init: WorkerInit): LinkFactory {
  return (handlers) => {
    const { script, eval: isEval } = workerScript();
    const worker = new Worker(script, { eval: isEval, workerData: { ...init, summaries: handlers.summaries } });
    worker.unref();
    let ended = false;
    let closing = false;
    let failure: Error | null = null;
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'closed') closing = true;
      handlers.message(m);
    });
    worker.on('error', (err) => {
      failure = err;
    });
    worker.on('exit', (code) => {
      if (ended) return;
      ended = true;
      handlers.exit(closing ? null : (failure ?? new Error(`trace worker exited with code ${code}`)));
    });
    // Never worker.terminate(): stopping a thread inside a native SQLite call can abort the
    // whole process (better-sqlite3 #1507). The worker stops itself between statements instead.
    return {
      post: (msg) => {
        if (!ended) worker.postMessage(msg);
      },
    };
  };
}

/** The pipeline in this thread, behind the same protocol (unit tests). */
export function inlineLink(sink: TraceSink, settings: PipelineSettings = {}): LinkFactory {
  return (handlers) => {
    let ended = false;
    const handle = serve(
      sink,
      { ...settings, summaries: handlers.summaries },
      (m) => {
        if (ended) return;
        handlers.message(m);
        if (m.type === 'closed') {
          ended = true;
          handlers.exit(null);
        }
      },
      () => undefined,
    );
    setImmediate(() => {
      if (!ended) handlers.message({ type: 'ready' });
    });
    return {
      post: (msg) => {
        if (ended) return;
        if (msg.type === 'exit') {
          ended = true;
          setImmediate(() => handlers.exit(new Error('exited')));
          return;
        }
        setImmediate(() => void handle(msg));
      },
    };
  };
}

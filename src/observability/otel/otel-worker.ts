/**
 * The span worker thread: receives batches of SpanInputs (bytes in a transferred arena), builds
 * the spans and exports them, so span building, OTLP serialization and the export's HTTP run off
 * the event loop that serves calls. `shutdown` flushes and answers `closed`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { OtelSettings } from './otel-settings';
import { SpanBuilder } from './span-builder';
import type { SpanInput } from './span-input';

export type ToSpanWorker = { type: 'spans'; inputs: SpanInput[]; arena: ArrayBuffer } | { type: 'shutdown' };

export type FromSpanWorker = { type: 'warn'; obj: Record<string, unknown>; msg: string } | { type: 'closed' };

export interface SpanWorkerInit {
  settings: OtelSettings;
  exportDelayMs?: number;
}

const port = parentPort;
if (port) {
  const init = workerData as SpanWorkerInit;
  const builder = new SpanBuilder({
    settings: init.settings,
    ...(init.exportDelayMs !== undefined ? { exportDelayMs: init.exportDelayMs } : {}),
    warn: (obj, msg) => port.postMessage({ type: 'warn', obj, msg } satisfies FromSpanWorker),
  });
  port.on('message', (m: ToSpanWorker) => {
    if (m.type === 'spans') builder.build(m.inputs, m.arena);
    else
      void builder
        .shutdown()
        .catch(() => undefined)
        .then(() => port.postMessage({ type: 'closed' } satisfies FromSpanWorker));
  });
}

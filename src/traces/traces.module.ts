/** Traces: the recorder behind CALL_RECORDER, the store and the /api controller. */
import { Global, Inject, Injectable, Module, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, LOGGER } from '../common/tokens';
import { ConfigService } from '../config/config.service';
import { CALL_RECORDER } from '../gateway/call-record';
import type { Logger } from '../observability/logger';
import { TraceStore } from './trace-store';
import { TraceWriter } from './trace-writer';
import { TracesController } from './traces.controller';

const DAY_MS = 86_400_000;

@Injectable()
class TracesLifecycle implements OnModuleInit, BeforeApplicationShutdown {
  private retention: NodeJS.Timeout | null = null;

  constructor(
    private readonly writer: TraceWriter,
    private readonly store: TraceStore,
    private readonly config: ConfigService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const prune = (): void => {
      const days = this.config.current.config.traces.retention_days;
      if (days <= 0) return;
      this.store.deleteOlderThan(Date.now() - days * DAY_MS).catch((err: unknown) => {
        this.logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'trace retention pass failed');
      });
    };
    prune();
    this.retention = setInterval(prune, 3_600_000);
    this.retention.unref();
  }

  /** Every queued trace is written before the database closes (in onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.retention) clearInterval(this.retention);
    await this.writer.close();
  }
}

@Global()
@Module({
  controllers: [TracesController],
  providers: [
    { provide: TraceStore, inject: [DATA_SOURCE], useFactory: (ds: DataSource) => new TraceStore(ds) },
    {
      provide: TraceWriter,
      inject: [TraceStore, ConfigService, LOGGER],
      useFactory: (store: TraceStore, config: ConfigService, logger: Logger) =>
        new TraceWriter(store, {
          enabled: () => config.current.config.traces.enabled,
          storeBodies: () => config.current.config.traces.store_bodies,
          jsonl: () => config.current.config.traces.jsonl,
          logger,
        }),
    },
    { provide: CALL_RECORDER, useExisting: TraceWriter },
    TracesLifecycle,
  ],
  exports: [CALL_RECORDER, TraceWriter, TraceStore],
})
export class TracesModule {}

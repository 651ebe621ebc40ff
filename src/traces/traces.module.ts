/** Traces: the recorder behind CALL_RECORDER, storage, queries and the /api controller. */
import {
  Global,
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, LOGGER } from '../common/tokens';
import { ConfigService } from '../config/config.service';
import { databaseUrlOf } from '../database/data-source';
import { isSqlite, sqlitePath } from '../database/database-url';
import { CALL_RECORDER } from '../gateway/call-record';
import type { Logger } from '../observability/logger';
import { IngestGuard } from './ingest.guard';
import { SqliteReader } from './sqlite-reader';
import { TraceQuery } from './trace-query';
import type { SqlReader } from './trace-sql';
import { TraceStats } from './trace-stats';
import { TraceStore } from './trace-store';
import { workerLink } from './trace-worker-link';
import { TraceWriter } from './trace-writer';
import { TracesController } from './traces.controller';

const DAY_MS = 86_400_000;

/** The SQLite reader thread (null on PostgreSQL, whose driver does not hold the event loop). */
const TRACE_READER = Symbol('TRACE_READER');

function readerOf(reader: SqliteReader | null): SqlReader | null {
  return reader ? (sql, params) => reader.query(sql, params) : null;
}
const RETENTION_EVERY_MS = 3_600_000;

@Injectable()
class TracesLifecycle implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private retention: NodeJS.Timeout | null = null;

  constructor(
    private readonly writer: TraceWriter,
    private readonly config: ConfigService,
    @Inject(TRACE_READER) private readonly reader: SqliteReader | null,
  ) {}

  /** Retention runs in the trace worker (hourly), so a large first pass never stalls requests. */
  async onModuleInit(): Promise<void> {
    await this.reader?.start();
    if (this.config.current.config.traces.enabled) {
      this.writer.start();
      // Linked traces are readable within 2 s of a call's end, the first call's too.
      await this.writer.ready();
    }
    const prune = (): void => {
      const days = this.config.current.config.traces.retention_days;
      if (days > 0) this.writer.prune(Date.now() - days * DAY_MS);
    };
    prune();
    this.retention = setInterval(prune, RETENTION_EVERY_MS);
    this.retention.unref();
  }

  /** Every queued trace is written before the database closes (DatabaseModule, onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.retention) clearInterval(this.retention);
    await this.writer.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.writer.flush(1000);
    await this.reader?.close();
  }
}

@Global()
@Module({
  controllers: [TracesController],
  providers: [
    { provide: TraceStore, inject: [DATA_SOURCE], useFactory: (ds: DataSource) => new TraceStore(ds) },
    {
      provide: TRACE_READER,
      inject: [DATA_SOURCE],
      useFactory: (ds: DataSource): SqliteReader | null => {
        const url = databaseUrlOf(ds);
        return isSqlite(url) ? new SqliteReader(sqlitePath(url)) : null;
      },
    },
    {
      provide: TraceQuery,
      inject: [DATA_SOURCE, TRACE_READER],
      useFactory: (ds: DataSource, reader: SqliteReader | null) => new TraceQuery(ds, readerOf(reader)),
    },
    {
      provide: TraceStats,
      inject: [DATA_SOURCE, TRACE_READER],
      useFactory: (ds: DataSource, reader: SqliteReader | null) => new TraceStats(ds, readerOf(reader)),
    },
    {
      provide: TraceWriter,
      inject: [DATA_SOURCE, ConfigService, LOGGER],
      useFactory: (ds: DataSource, config: ConfigService, logger: Logger) =>
        new TraceWriter(workerLink({ url: databaseUrlOf(ds) }), {
          enabled: () => config.current.config.traces.enabled,
          storeBodies: () => config.current.config.traces.store_bodies,
          jsonl: () => config.current.config.traces.jsonl,
          logger,
        }),
    },
    { provide: CALL_RECORDER, useExisting: TraceWriter },
    IngestGuard,
    TracesLifecycle,
  ],
  exports: [CALL_RECORDER, TraceWriter, TraceStore, TraceQuery],
})
export class TracesModule {}

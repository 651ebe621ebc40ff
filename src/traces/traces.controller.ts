/** /api: records, sessions, replay, ingest, export, stats (SPEC §5). Thin: services do the work. */
import { Readable } from 'node:stream';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  StreamableFile,
  UseGuards,
} from '@nestjs/common';
import { MasterKeyGuard } from '../auth/master-key.guard';
import { GatewayError } from '../common/errors';
import { REPLAY_RUNNER } from '../common/tokens';
import { parseIngest } from './ingest';
import { IngestGuard, type IngestRequest } from './ingest.guard';
import type { ReplayRunner } from './replay-runner';
import { TraceQuery, type Page, type SessionView } from './trace-query';
import type { TraceView } from './trace-sql';
import { TraceStats, type Stats } from './trace-stats';
import { TraceStore } from './trace-store';
import { TraceWriter } from './trace-writer';
import { cursorOf, filtersOf, limitOf, statsRangeOf, type QueryBag } from './traces.params';

function notFound(what: string, id: string): GatewayError {
  return new GatewayError(404, `No ${what} with id \`${id}\`.`, 'invalid_request_error', 'not_found', 'id');
}

async function* jsonLines(traces: AsyncIterable<TraceView>): AsyncGenerator<string> {
  for await (const t of traces) yield `${JSON.stringify(t)}\n`;
}

@Controller('api')
export class TracesController {
  constructor(
    private readonly store: TraceStore,
    private readonly query: TraceQuery,
    private readonly figures: TraceStats,
    private readonly writer: TraceWriter,
    @Inject(REPLAY_RUNNER) private readonly replay: ReplayRunner,
  ) {}

  @Get('records')
  @UseGuards(MasterKeyGuard)
  list(@Query() q: QueryBag): Promise<Page<TraceView>> {
    return this.query.list(filtersOf(q), limitOf(q), cursorOf(q));
  }

  @Get('records/export')
  @UseGuards(MasterKeyGuard)
  export(@Query() q: QueryBag): StreamableFile {
    const format = q.format ?? 'jsonl';
    if (format !== 'jsonl') throw GatewayError.badRequest('`format` must be jsonl.', 'format');
    const stream = Readable.from(jsonLines(this.query.export(filtersOf(q))));
    return new StreamableFile(stream, { type: 'application/x-ndjson', disposition: 'attachment; filename="traces.jsonl"' });
  }

  @Get('records/:id')
  @UseGuards(MasterKeyGuard)
  async get(@Param('id') id: string): Promise<TraceView> {
    const rec = await this.query.get(id);
    if (!rec) throw notFound('record', id);
    return rec;
  }

  @Delete('records/:id')
  @UseGuards(MasterKeyGuard)
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    if (!(await this.store.delete(id))) throw notFound('record', id);
  }

  @Post('records/:id/replay')
  @UseGuards(MasterKeyGuard)
  @HttpCode(200)
  async replayRecord(@Param('id') id: string, @Body() body: unknown): Promise<{ record_id: string; response: unknown }> {
    const rec = await this.query.get(id);
    if (!rec) throw notFound('record', id);
    const edited = typeof body === 'object' && body !== null ? (body as { request?: unknown }).request : undefined;
    const request = edited ?? rec.request;
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw GatewayError.badRequest('The record has no stored request to replay; send `request`.', 'request');
    }
    const r = await this.replay.run(request, { replayOf: id, sessionId: null });
    return { record_id: r.recordId, response: r.response };
  }

  @Get('sessions')
  @UseGuards(MasterKeyGuard)
  sessions(@Query() q: QueryBag): Promise<Page<SessionView>> {
    return this.query.sessions(limitOf(q), cursorOf(q));
  }

  @Get('sessions/:id/records')
  @UseGuards(MasterKeyGuard)
  async sessionRecords(@Param('id') id: string): Promise<{ data: TraceView[]; next_cursor: null }> {
    return { data: await this.query.sessionRecords(id), next_cursor: null };
  }

  @Post('traces')
  @UseGuards(IngestGuard)
  @HttpCode(201)
  ingest(@Body() body: unknown, @Req() req: IngestRequest): { id: string } {
    const { rec, turn } = parseIngest(body, req.ingestKeyId ?? null);
    if (!this.writer.enqueue(rec, turn)) {
      throw new GatewayError(503, 'The trace queue is full; retry later.', 'api_error', 'trace_queue_full', null, {
        'retry-after': '1',
      });
    }
    return { id: rec.id };
  }

  @Get('stats')
  @UseGuards(MasterKeyGuard)
  stats(@Query() q: QueryBag): Promise<Stats> {
    const { since, until, bucketS } = statsRangeOf(q);
    return this.figures.compute(since, until, bucketS);
  }
}

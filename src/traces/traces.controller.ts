/** /api: records, sessions, replay (SPEC §5). Thin: the store and the replay runner do the work. */
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { GatewayError } from '../common/errors';
import { REPLAY_RUNNER } from '../common/tokens';
import { MasterKeyGuard } from '../auth/master-key.guard';
import type { InternalCaller } from '../gateway/internal-call';
import { TraceStore, type TraceFilters, type TraceView } from './trace-store';

function limitOf(v: string | undefined): number {
  if (v === undefined) return 50;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw GatewayError.badRequest('`limit` must be an integer from 1 to 500.', 'limit');
  return n;
}

function timeOf(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw GatewayError.badRequest(`\`${name}\` must be an ISO 8601 time or epoch milliseconds.`, name);
  return t;
}

function notFound(what: string, id: string): GatewayError {
  return new GatewayError(404, `No ${what} with id \`${id}\`.`, 'invalid_request_error', 'not_found', 'id');
}

@Controller('api')
@UseGuards(MasterKeyGuard)
export class TracesController {
  constructor(
    private readonly store: TraceStore,
    @Inject(REPLAY_RUNNER) private readonly replay: InternalCaller,
  ) {}

  @Get('records')
  list(@Query() q: Record<string, string | undefined>): Promise<{ data: TraceView[]; next_cursor: string | null }> {
    const filters: TraceFilters = {};
    for (const k of ['model', 'status', 'key_id', 'session_id', 'q'] as const) {
      const v = q[k];
      if (v) filters[k] = v;
    }
    const since = timeOf(q.since, 'since');
    const until = timeOf(q.until, 'until');
    if (since !== undefined) filters.since = since;
    if (until !== undefined) filters.until = until;
    return this.store.list(filters, limitOf(q.limit), q.cursor ?? null);
  }

  @Get('records/:id')
  async get(@Param('id') id: string): Promise<TraceView> {
    const rec = await this.store.get(id);
    if (!rec) throw notFound('record', id);
    return rec;
  }

  @Delete('records/:id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    if (!(await this.store.delete(id))) throw notFound('record', id);
  }

  @Post('records/:id/replay')
  @HttpCode(200)
  async replayRecord(@Param('id') id: string, @Body() body: { request?: unknown } | undefined): Promise<{ record_id: string; response: unknown }> {
    const rec = await this.store.get(id);
    if (!rec) throw notFound('record', id);
    const request = body?.request ?? rec.request;
    if (!request || typeof request !== 'object') {
      throw GatewayError.badRequest('The record has no stored request to replay; send `request`.', 'request');
    }
    const r = await this.replay.run(request, { replayOf: id, sessionId: null });
    return { record_id: r.recordId, response: r.response };
  }

  @Get('sessions')
  sessions(@Query('limit') limit?: string, @Query('cursor') cursor?: string): Promise<{ data: unknown[]; next_cursor: string | null }> {
    return this.store.sessions(limitOf(limit), cursor ?? null);
  }

  @Get('sessions/:id/records')
  async sessionRecords(@Param('id') id: string): Promise<{ data: TraceView[]; next_cursor: null }> {
    return { data: await this.store.sessionRecords(id), next_cursor: null };
  }
}

/** GET /health (the process runs) and GET /ready (config loaded and the database answers). */
import { Controller, Get, HttpCode, Inject, Optional, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../common/tokens';
import { ConfigService } from '../config/config.service';

@Controller()
export class HealthController {
  constructor(
    private readonly config: ConfigService,
    @Optional() @Inject(DATA_SOURCE) private readonly db?: DataSource,
  ) {}

  @Get('health')
  @HttpCode(200)
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const checks: Record<string, 'ok' | 'failed'> = { config: this.config.current ? 'ok' : 'failed' };
    if (this.db) {
      try {
        await this.db.query('SELECT 1');
        checks.database = 'ok';
      } catch {
        checks.database = 'failed';
      }
    }
    const ok = Object.values(checks).every((v) => v === 'ok');
    await reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', checks });
  }
}

/** GET /v1/models and /v1/models/{id} in OpenAI's list format. */
import { performance } from 'node:perf_hooks';
import { Controller, Get, Inject, Param, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../common/errors';
import type { Model } from '../common/openai.types';
import type { AccessControl } from '../auth/access.interface';
import { ConfigService } from '../config/config.service';
import { GATEWAY_ACCESS } from './gateway.tokens';
import { ModelsService } from './models.service';

@Controller('v1/models')
export class ModelsController {
  constructor(
    private readonly models: ModelsService,
    private readonly config: ConfigService,
    @Inject(GATEWAY_ACCESS) private readonly access: AccessControl,
  ) {}

  @Get()
  async list(@Req() req: FastifyRequest): Promise<{ object: 'list'; data: Model[] }> {
    await this.access.admit({ headers: req.headers, model: null, endpoint: '/v1/models' });
    return { object: 'list', data: await this.listTimed(req) };
  }

  /** The model list; the wait (discovery from upstreams) is kept off the overhead header. */
  private async listTimed(req: FastifyRequest): Promise<Model[]> {
    const t = performance.now();
    try {
      return await this.models.list(this.config.current);
    } finally {
      req.upstreamWaitMs = performance.now() - t;
    }
  }

  @Get('*')
  async get(@Req() req: FastifyRequest, @Param('*') id: string): Promise<Model> {
    await this.access.admit({ headers: req.headers, model: null, endpoint: '/v1/models' });
    const all = await this.listTimed(req);
    const found = all.find((m) => m.id === id);
    if (!found) {
      throw new GatewayError(
        404,
        `The model \`${id}\` does not exist.`,
        'invalid_request_error',
        'model_not_found',
        'model',
      );
    }
    return found;
  }
}

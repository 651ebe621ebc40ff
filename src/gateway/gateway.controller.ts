/** The /v1 endpoints that run a call. One line per route: the service does the work. */
import { Controller, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpSink } from './client-sink';
import { GatewayService } from './gateway.service';
import type { Endpoint } from './request-checks';

function run(gateway: GatewayService, endpoint: Endpoint, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.hijack();
  return gateway
    .handle({ endpoint, body: req.body, headers: req.headers, t0: req.t0, sink: new HttpSink(reply.raw) })
    .then(() => undefined);
}

@Controller('v1')
export class GatewayController {
  constructor(private readonly gateway: GatewayService) {}

  @Post('chat/completions')
  chat(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return run(this.gateway, '/v1/chat/completions', req, reply);
  }

  @Post('completions')
  completions(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return run(this.gateway, '/v1/completions', req, reply);
  }

  @Post('embeddings')
  embeddings(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return run(this.gateway, '/v1/embeddings', req, reply);
  }
}

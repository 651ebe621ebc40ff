/** GET /metrics — Prometheus text format (the whole machine's under WORKERS=N). */
import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ClusterMetrics } from '../cluster/cluster-metrics';
import { primaryLink } from '../cluster/messages';
import { GatewayMetrics } from './metrics';

@Controller()
export class MetricsController {
  private readonly cluster: ClusterMetrics | null;

  constructor(private readonly metrics: GatewayMetrics) {
    const link = primaryLink();
    this.cluster = link ? new ClusterMetrics(link, metrics.registry) : null;
  }

  @Get('metrics')
  async metricsText(@Res() reply: FastifyReply): Promise<void> {
    const text = this.cluster ? await this.cluster.text() : await this.metrics.registry.metrics();
    await reply.status(200).header('content-type', this.metrics.registry.contentType).send(text);
  }
}

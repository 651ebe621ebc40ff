import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { TraceQueueMetrics } from './trace-queue-metrics';

@Module({ controllers: [HealthController, MetricsController], providers: [TraceQueueMetrics] })
export class ObservabilityModule {}

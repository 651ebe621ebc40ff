import { Global, Module } from '@nestjs/common';
import { LOGGER } from '../common/tokens';
import { CallObservers } from './call-observers';
import { HealthController } from './health.controller';
import type { Logger } from './logger';
import { GatewayMetrics } from './metrics';
import { MetricsController } from './metrics.controller';
import { ObservabilityRuntime } from './observability-runtime';
import { TraceQueueMetrics } from './trace-queue-metrics';

/** Global: the gateway reports finished calls to CallObservers (metrics, logs, alerts, spans). */
@Global()
@Module({
  controllers: [HealthController, MetricsController],
  providers: [
    TraceQueueMetrics,
    {
      provide: CallObservers,
      useFactory: (metrics: GatewayMetrics, logger: Logger) =>
        new CallObservers(metrics, (err) => logger.error({ err }, 'call observer failed')),
      inject: [GatewayMetrics, LOGGER],
    },
    ObservabilityRuntime,
  ],
  exports: [CallObservers],
})
export class ObservabilityModule {}

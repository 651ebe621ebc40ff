/** /v1: controllers, the gateway service and what it runs on (adapters, routing, transforms). */
import { knownSecrets } from '../observability/secrets';
import { Global, Module } from '@nestjs/common';
import { ACCESS_CONTROL, type AccessControl } from '../auth/access.interface';
import { OpenAccess } from '../auth/open-access';
import { UpstreamHttp } from '../common/http';
import { LOGGER, REPLAY_RUNNER, UPSTREAM_HTTP } from '../common/tokens';
import { ConfigService } from '../config/config.service';
import type { Logger } from '../observability/logger';
import { CallObservers } from '../observability/call-observers';
import { GatewayMetrics } from '../observability/metrics';
import { RoutePlanner } from '../routing/planner';
import { ImageToTextService } from '../transforms';
import { AdapterPool } from './adapter-pool';
import { AttemptLoop } from './attempt-loop';
import { CALL_RECORDER, type CallRecorder } from './call-record';
import { GATEWAY_ACCESS } from './gateway.tokens';
import { GatewayService } from './gateway.service';
import { InternalCaller } from './internal-call';
import { ModelsController } from './models.controller';
import { ModelsService } from './models.service';
import { NoopRecorder } from './noop-recorder';
import { OrderedRecorder } from './ordered-recorder';

@Global()
@Module({
  controllers: [ModelsController],
  providers: [
    { provide: UPSTREAM_HTTP, useFactory: () => new UpstreamHttp() },
    {
      provide: AdapterPool,
      useFactory: (http: UpstreamHttp) => new AdapterPool(http),
      inject: [UPSTREAM_HTTP],
    },
    { provide: RoutePlanner, useFactory: () => new RoutePlanner() },
    {
      provide: AttemptLoop,
      useFactory: (planner: RoutePlanner, pool: AdapterPool, metrics: GatewayMetrics) =>
        new AttemptLoop(planner, pool, {
          onFallback: () => metrics.fallback(),
          onUpstreamError: (provider, code) => metrics.upstreamError(provider, code),
        }),
      inject: [RoutePlanner, AdapterPool, GatewayMetrics],
    },
    {
      provide: ImageToTextService,
      useFactory: (metrics: GatewayMetrics) =>
        new ImageToTextService({
          metrics: { hit: () => metrics.imageCacheHit(), miss: () => metrics.imageCacheMiss() },
        }),
      inject: [GatewayMetrics],
    },
    {
      provide: GATEWAY_ACCESS,
      useFactory: (access: AccessControl | undefined) => access ?? new OpenAccess(),
      inject: [{ token: ACCESS_CONTROL, optional: true }],
    },
    {
      provide: GatewayService,
      useFactory: (
        config: ConfigService,
        loop: AttemptLoop,
        images: ImageToTextService,
        logger: Logger,
        access: AccessControl,
        metrics: CallObservers,
        recorder: CallRecorder | undefined,
      ) => {
        let internal: InternalCaller | null = null;
        // image descriptions join their parent's session: their records follow the parent's
        const ordered = new OrderedRecorder(recorder ?? new NoopRecorder());
        const gateway = new GatewayService({
          config,
          loop,
          images,
          access,
          recorder: ordered,
          metrics,
          describeImage: (model, prompt, url, parent) => {
            ordered.expect(parent.id);
            return (internal as InternalCaller).describeImage(
              model,
              prompt,
              url,
              parent.sessionId,
              parent.id,
            );
          },
          onError: (err) => logger.error({ err }, 'unexpected error in the gateway'),
          scrub: (text) => knownSecrets.scrub(text),
        });
        internal = new InternalCaller(gateway);
        return gateway;
      },
      inject: [
        ConfigService,
        AttemptLoop,
        ImageToTextService,
        LOGGER,
        GATEWAY_ACCESS,
        CallObservers,
        { token: CALL_RECORDER, optional: true },
      ],
    },
    {
      provide: InternalCaller,
      useFactory: (g: GatewayService) => new InternalCaller(g),
      inject: [GatewayService],
    },
    { provide: REPLAY_RUNNER, useExisting: InternalCaller },
    {
      provide: ModelsService,
      useFactory: (pool: AdapterPool) => new ModelsService(pool),
      inject: [AdapterPool],
    },
  ],
  exports: [GATEWAY_ACCESS, GatewayService, InternalCaller, REPLAY_RUNNER, UPSTREAM_HTTP, AttemptLoop],
})
export class GatewayModule {}

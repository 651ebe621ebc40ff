/** Values every module may inject: environment, logger, live config. */
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ENV, LOGGER } from './common/tokens';
import type { Env } from './config/env';
import { ConfigService } from './config/config.service';
import type { Logger } from './observability/logger';
import { GatewayMetrics } from './observability/metrics';

export interface CoreValues {
  env: Env;
  logger: Logger;
  config: ConfigService;
}

@Global()
@Module({})
export class CoreModule {
  static register(values: CoreValues): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: ENV, useValue: values.env },
        { provide: LOGGER, useValue: values.logger },
        { provide: ConfigService, useValue: values.config },
        { provide: GatewayMetrics, useFactory: () => new GatewayMetrics() },
      ],
      exports: [ENV, LOGGER, ConfigService, GatewayMetrics],
    };
  }
}

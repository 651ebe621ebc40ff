/** Composes the feature modules; no logic. */
import { Module, type DynamicModule } from '@nestjs/common';
import { CoreModule, type CoreValues } from './core.module';
import { GatewayModule } from './gateway/gateway.module';
import { ObservabilityModule } from './observability/observability.module';

@Module({})
export class AppModule {
  static register(values: CoreValues): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.register(values), GatewayModule, ObservabilityModule],
    };
  }
}

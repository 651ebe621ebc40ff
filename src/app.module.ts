/** Composes the feature modules; no logic. */
import { Module, type DynamicModule } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import { CoreModule, type CoreValues } from './core.module';
import { DatabaseModule } from './database/database.module';
import { GatewayModule } from './gateway/gateway.module';
import { ObservabilityModule } from './observability/observability.module';
import { TracesModule } from './traces/traces.module';

@Module({})
export class AppModule {
  static register(values: CoreValues): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.register(values),
        DatabaseModule.forRoot(values.env.DATABASE_URL),
        AuthModule.forRoot({
          requireClientKey: () => values.config.current.config.auth.require_client_key,
          redisPrefix: values.env.REDIS_PREFIX,
        }),
        TracesModule,
        GatewayModule,
        ObservabilityModule,
      ],
    };
  }
}

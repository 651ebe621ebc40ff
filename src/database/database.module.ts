/** The shared TypeORM DataSource (token DATA_SOURCE), migrated at start, closed last at shutdown. */
import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../common/tokens';
import { createDataSource } from './data-source';
import { ENTITIES, MIGRATIONS } from './schema';

@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(url: string): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DATA_SOURCE,
          useFactory: async (): Promise<DataSource> => {
            const ds = createDataSource(url, ENTITIES, MIGRATIONS);
            await ds.initialize();
            await ds.runMigrations({ transaction: 'each' });
            return ds;
          },
        },
        DatabaseLifecycle,
      ],
      exports: [DATA_SOURCE],
    };
  }
}

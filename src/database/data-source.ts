/** TypeORM data source from DATABASE_URL: `sqlite:PATH` (better-sqlite3, WAL) or `postgres://…`. */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';

type Entities = MixedList<string | (new () => unknown) | EntitySchema>;
type Migrations = MixedList<string | (new () => unknown)>;

export function isSqlite(url: string): boolean {
  return url.startsWith('sqlite:');
}

export function sqlitePath(url: string): string {
  return resolve(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
}

export function createDataSource(url: string, entities: Entities, migrations: Migrations): DataSource {
  const common = { entities, migrations, migrationsRun: false, synchronize: false, logging: false } as const;
  let options: DataSourceOptions;
  if (isSqlite(url)) {
    const file = sqlitePath(url);
    mkdirSync(dirname(file), { recursive: true });
    options = {
      type: 'better-sqlite3',
      database: file,
      ...common,
      prepareDatabase: (db: { pragma(s: string): unknown }) => {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma('busy_timeout = 5000');
        // Keep indexes of a large trace table in memory: 64 MB page cache, 256 MB memory map.
        db.pragma('cache_size = -65536');
        db.pragma('mmap_size = 268435456');
        db.pragma('temp_store = MEMORY');
      },
    };
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    options = { type: 'postgres', url, ...common, extra: { max: 10 } };
  } else {
    throw new Error(`DATABASE_URL: expected sqlite:PATH or postgres://…, got "${url.split(':')[0]}:…"`);
  }
  return new DataSource(options);
}

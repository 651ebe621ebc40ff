/** TypeORM data source from DATABASE_URL: `sqlite:PATH` (better-sqlite3, WAL) or `postgres://…`. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import { isSqlite, sqlitePath } from './database-url';

type Entities = MixedList<string | (new () => unknown) | EntitySchema>;
type Migrations = MixedList<string | (new () => unknown)>;

export { isSqlite, sqlitePath } from './database-url';

/** The DATABASE_URL a data source was made from (the trace worker opens its own connection). */
export function databaseUrlOf(ds: DataSource): string {
  const o = ds.options;
  if (o.type === 'better-sqlite3') return `sqlite:${String(o.database)}`;
  if (o.type === 'postgres' && o.url) return o.url;
  throw new Error(`no DATABASE_URL for a ${o.type} data source`);
}

export function createDataSource(
  url: string,
  entities: Entities,
  migrations: Migrations,
  opts: { poolSize?: number } = {},
): DataSource {
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
    options = { type: 'postgres', url, ...common, extra: { max: opts.poolSize ?? 10 } };
  } else {
    throw new Error(`DATABASE_URL: expected sqlite:PATH or postgres://…, got "${url.split(':')[0]}:…"`);
  }
  return new DataSource(options);
}

/** DATABASE_URL helpers that need no database driver (the trace worker loads only what it uses). */
import { resolve } from 'node:path';

export function isSqlite(url: string): boolean {
  return url.startsWith('sqlite:');
}

export function sqlitePath(url: string): string {
  return resolve(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
}

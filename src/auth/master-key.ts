/**
 * The admin (master) key (SPEC §1 GATEWAY_MASTER_KEY): from the environment, else read from
 * `data/master.key`, else generated there (mode 0600) and printed once.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface MasterKeySource {
  /** GATEWAY_MASTER_KEY */
  envKey?: string | undefined;
  /** DATABASE_URL; a `sqlite:PATH` puts master.key beside the database file. */
  databaseUrl?: string | undefined;
  /** Where `./data` is resolved from (default: the working directory). */
  cwd?: string;
  /** Told the generated key, once (default: written to stdout). */
  announce?: (key: string, path: string) => void;
}

export interface ResolvedMasterKey {
  key: string;
  source: 'env' | 'file' | 'generated';
  /** The key file, when the key came from or went to one. */
  path: string | null;
}

/** The folder of the SQLite file, or `./data`. */
export function masterKeyDir(databaseUrl: string | undefined, cwd: string): string {
  const url = databaseUrl?.trim() ?? '';
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file !== '' && file !== ':memory:') return dirname(resolve(cwd, file));
  }
  return resolve(cwd, 'data');
}

function defaultAnnounce(key: string, path: string): void {
  process.stdout.write(
    `\nGenerated the gateway master key (saved to ${path}, shown only this once):\n\n  ${key}\n\n` +
      'Use it as "Authorization: Bearer <key>" on /admin, /api and /ui.\n\n',
  );
}

export function resolveMasterKey(source: MasterKeySource = {}): ResolvedMasterKey {
  const fromEnv = source.envKey?.trim();
  if (fromEnv) return { key: fromEnv, source: 'env', path: null };

  const dir = masterKeyDir(source.databaseUrl, source.cwd ?? process.cwd());
  const path = join(dir, 'master.key');
  if (existsSync(path)) {
    const stored = readFileSync(path, 'utf8').trim();
    if (stored !== '') return { key: stored, source: 'file', path };
  }
  const key = `sk-admin-${randomBytes(24).toString('base64url')}`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  (source.announce ?? defaultAnnounce)(key, path);
  return { key, source: 'generated', path };
}

/** Constant-time comparison over SHA-256 digests (equal length whatever the input). */
export function secretsEqual(expected: string, presented: string): boolean {
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(presented, 'utf8').digest();
  return timingSafeEqual(a, b);
}

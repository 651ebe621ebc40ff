/**
 * A throw-away PostgreSQL database for one test file: `gw_<tag>_<random>`, created through `pg`
 * and dropped afterwards. Server from TEST_PG_URL (default postgres://postgres:postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { Client } from 'pg';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';

/** True when something listens on the server's host and port. */
export async function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol.startsWith('redis') ? 6379 : 5432));
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, u.hostname, () => done(true));
  });
}

export interface TempPostgres {
  url: string;
  drop(): Promise<void>;
}

export async function createTempPostgres(tag: string): Promise<TempPostgres> {
  const name = `gw_${tag}_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export function warnSkipped(what: string, url: string): void {
  const line = '!'.repeat(78);
  console.warn(`\n${line}\n!! SKIPPED: ${what} — nothing listens at ${new URL(url).host}.\n${line}\n`);
}

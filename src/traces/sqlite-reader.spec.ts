import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReader } from './sqlite-reader';

describe('SqliteReader', () => {
  let dir: string;
  let file: string;
  let reader: SqliteReader;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reader-'));
    file = join(dir, 'db.sqlite');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, ok INTEGER)');
    db.prepare('INSERT INTO t (name, ok) VALUES (?, ?), (?, ?)').run('a', 1, 'b', 0);
    db.close();
    reader = new SqliteReader(file);
    await reader.start();
  });
  afterAll(async () => {
    await reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers reads from its own thread, booleans bound as numbers', async () => {
    expect(await reader.query('SELECT name FROM t WHERE ok = ? ORDER BY id', [true])).toEqual([{ name: 'a' }]);
    const both = await Promise.all([
      reader.query('SELECT COUNT(*) AS n FROM t', []),
      reader.query('SELECT name FROM t WHERE id = ?', [2]),
    ]);
    expect(both).toEqual([[{ n: 2 }], [{ name: 'b' }]]);
  });

  it('sees rows another connection commits', async () => {
    const db = new Database(file);
    db.prepare('INSERT INTO t (name, ok) VALUES (?, ?)').run('c', 1);
    db.close();
    expect(await reader.query('SELECT COUNT(*) AS n FROM t', [])).toEqual([{ n: 3 }]);
  });

  it('refuses writes and reports SQL errors without stopping', async () => {
    await expect(reader.query("INSERT INTO t (name) VALUES ('x')", [])).rejects.toThrow(/only statements that return rows/);
    await expect(reader.query('SELECT nope FROM t', [])).rejects.toThrow(/no such column/);
    expect(await reader.query('SELECT COUNT(*) AS n FROM t', [])).toEqual([{ n: 3 }]);
  });
});

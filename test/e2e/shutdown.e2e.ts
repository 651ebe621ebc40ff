/** SIGTERM: in-flight calls finish, every trace is flushed, the process exits 0 (SPEC §1). */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';

describe('graceful shutdown', () => {
  it('finishes in-flight streams, flushes their traces and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-stop-'));
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      'providers:\n  slow: { type: mock, delay_ms: 700 }\nroutes:\n  - match: { any: true }\n    targets: [ { provider: slow } ]\n',
    );
    const root = resolve(__dirname, '../..');
    const child = spawn(
      process.execPath,
      ['-r', require.resolve('ts-node/register/transpile-only'), join(root, 'src/main.ts')],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          GATEWAY_CONFIG: config,
          DATABASE_URL: `sqlite:${join(dir, 'gw.db')}`,
          PORT: '0',
          GATEWAY_MASTER_KEY: 'k'.repeat(32),
          TS_NODE_PROJECT: join(root, 'tsconfig.json'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const url = await new Promise<string>((resolveUrl, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`gateway did not start: ${out}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolveUrl(m[1]!);
        }
      });
    });
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
    const calls = Array.from({ length: 10 }, async (_, i) => {
      const stream = await client.chat.completions.create({
        model: 'm',
        stream: true,
        messages: [{ role: 'user', content: `call number ${i}` }],
      });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
      return text;
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const texts = await Promise.all(calls);
    expect(texts).toEqual(Array.from({ length: 10 }, (_, i) => `call number ${i}`));
    expect(await exited).toBe(0);
    const db = new Database(join(dir, 'gw.db'), { readonly: true });
    const row = db.prepare("SELECT COUNT(*) AS n FROM traces WHERE status = 'success'").get() as {
      n: number;
    };
    db.close();
    expect(row.n).toBe(10);
  }, 90_000);
});

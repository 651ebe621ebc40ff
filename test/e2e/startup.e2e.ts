/** Starting with a bad config exits non-zero and names the path of each fault (SPEC §1). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

describe('start with a bad config', () => {
  it('exits non-zero with a message naming the path and the fault', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-start-'));
    const config = join(dir, 'bad.yaml');
    writeFileSync(
      config,
      'providers:\n  a: { type: openai }\nroutes:\n  - match: { any: true }\n    targets: [ { provider: a } ]\n  - match: { any: true }\n    targets: [ { provider: a } ]\n  - match: { exact: x }\n    targets: [ { provider: a }, { provider: azure-west } ]\n',
    );
    const root = resolve(__dirname, '../..');
    const r = spawnSync(
      process.execPath,
      ['-r', require.resolve('ts-node/register/transpile-only'), join(root, 'src/main.ts')],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          GATEWAY_CONFIG: config,
          DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
          PORT: '0',
          TS_NODE_PROJECT: join(root, 'tsconfig.json'),
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('routes[2].targets[1].provider: unknown provider "azure-west"');
  }, 70_000);
});

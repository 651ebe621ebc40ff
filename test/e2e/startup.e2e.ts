/** Starting with a bad config exits non-zero and names the path of each fault (SPEC §1). */
import { runGatewaySync } from '../support/spawn-gateway';

describe('start with a bad config', () => {
  it('exits non-zero with a message naming the path and the fault', () => {
    const r = runGatewaySync({
      config:
        'providers:\n  a: { type: openai }\nroutes:\n  - match: { any: true }\n    targets: [ { provider: a } ]\n  - match: { any: true }\n    targets: [ { provider: a } ]\n  - match: { exact: x }\n    targets: [ { provider: a }, { provider: azure-west } ]\n',
      env: { GATEWAY_MASTER_KEY: undefined },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('routes[2].targets[1].provider: unknown provider "azure-west"');
  }, 70_000);

  it('with WORKERS=2 the primary checks the config before forking: one message, exit 1', () => {
    const r = runGatewaySync({
      config:
        'providers:\n  a: { type: openai }\nroutes:\n  - match: { any: true }\n    targets: [ { provider: nope } ]\n',
      env: { WORKERS: '2' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr.split('unknown provider "nope"').length - 1).toBe(1);
    expect(r.stdout).not.toContain('serving');
  }, 70_000);
});

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from '@nestjs/common';
import { GatewayError } from '../common/errors';
import { masterKeyDir, resolveMasterKey, secretsEqual } from './master-key';
import { MasterKeyGuard } from './master-key.guard';

describe('resolveMasterKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-master-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses GATEWAY_MASTER_KEY when set, and writes no file', () => {
    const announce = jest.fn();
    const r = resolveMasterKey({ envKey: 'admin-secret', cwd: dir, announce });
    expect(r).toEqual({ key: 'admin-secret', source: 'env', path: null });
    expect(announce).not.toHaveBeenCalled();
    expect(() => statSync(join(dir, 'data', 'master.key'))).toThrow();
  });

  it('generates a key into data/master.key with mode 0600, announces it once, then reuses it', () => {
    const announce = jest.fn();
    const first = resolveMasterKey({ cwd: dir, announce });
    const path = join(dir, 'data', 'master.key');
    expect(first).toEqual({
      key: expect.stringMatching(/^sk-admin-[A-Za-z0-9_-]{32}$/),
      source: 'generated',
      path,
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trim()).toBe(first.key);
    expect(announce).toHaveBeenCalledTimes(1);
    expect(announce).toHaveBeenCalledWith(first.key, path);

    const second = resolveMasterKey({ cwd: dir, announce });
    expect(second).toEqual({ key: first.key, source: 'file', path });
    expect(announce).toHaveBeenCalledTimes(1);
  });

  it('puts the key file beside the SQLite database', () => {
    const announce = jest.fn();
    const r = resolveMasterKey({ cwd: dir, databaseUrl: 'sqlite:./db/here/gateway.db', announce });
    expect(r.path).toBe(join(dir, 'db', 'here', 'master.key'));
    expect(masterKeyDir('sqlite:/var/lib/gw/gateway.db', dir)).toBe('/var/lib/gw');
    expect(masterKeyDir('postgres://u:p@h/db', dir)).toBe(join(dir, 'data'));
    expect(masterKeyDir(undefined, dir)).toBe(join(dir, 'data'));
  });

  it('reads a key written by an operator', () => {
    const announce = jest.fn();
    resolveMasterKey({ cwd: dir, announce });
    writeFileSync(join(dir, 'data', 'master.key'), 'operator-key\n');
    expect(resolveMasterKey({ cwd: dir, announce }).key).toBe('operator-key');
  });
});

describe('secretsEqual', () => {
  it('compares whole secrets of any length', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abd')).toBe(false);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('abc', '')).toBe(false);
  });
});

describe('MasterKeyGuard', () => {
  const guard = new MasterKeyGuard('the-master-key');
  const ctx = (headers: Record<string, string>) =>
    ({ switchToHttp: () => ({ getRequest: () => ({ headers }) }) }) as unknown as ExecutionContext;

  it('lets the master key through', () => {
    expect(guard.canActivate(ctx({ authorization: 'Bearer the-master-key' }))).toBe(true);
  });

  it.each([
    ['no header', {}],
    ['a wrong key', { authorization: 'Bearer nope' }],
    ['a client key', { authorization: 'Bearer sk-gw-' + 'a'.repeat(40) }],
    ['a non-bearer scheme', { authorization: 'Basic the-master-key' }],
  ])('refuses %s with 401 invalid_api_key', (_label, headers) => {
    let thrown: unknown;
    try {
      guard.canActivate(ctx(headers));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).status).toBe(401);
    expect((thrown as GatewayError).toBody().error.code).toBe('invalid_api_key');
  });
});
